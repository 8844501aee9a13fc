/* gpu.h - GPUs of the fleet's machines, as the collector read them
 * (nvidia-smi, amdgpu sysfs): each stored sample's readings become history,
 * and the hottest GPU against the gpu_temperature thresholds raises or
 * resolves the gpu_temperature alert. Thread-safe. */
#ifndef HLC_GPU_H
#define HLC_GPU_H

struct hlc_event;

#define HLC_GPU_KEEP_DAYS 30         /* readings, as raw metric samples */
#define HLC_GPU_HOURLY_KEEP_DAYS 365 /* hourly sums, as metrics_hourly */

/* The bus subscriber (inline; ud is the hub): a stored sample with GPUs
 * is recorded and judged. */
void hlc_gpu_on_event(void *hub, const struct hlc_event *ev);

#endif
