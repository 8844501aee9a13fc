/* test_notify.c - notification bodies per channel (pure), URL checks and
 * masking, and the HTTP classification against a real local socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "hlc/base.h"
#include "notify.h"

static json_t *
event(const char *kind, const char *severity)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:[{s:s, s:s}]}", "kind", kind,
                     "severity", severity, "title", "Disk almost full on /", "message",
                     "/ is 94.7% full", "server_id", "nas", "server_name", "NAS (nas)", "time",
                     (json_int_t)1795400000, "alert_id", "a1", "fields", "title", "Threshold",
                     "value", "90");
}

static void
test_url_checks(void **state)
{
    (void)state;
    assert_true(hlc_notify_url_ok("https://hooks.slack.com/services/T0/B0/xyz"));
    assert_true(hlc_notify_url_ok("http://127.0.0.1:8080/hook?x=1"));
    assert_false(hlc_notify_url_ok("ftp://example.com/"));
    assert_false(hlc_notify_url_ok("https://"));
    assert_false(hlc_notify_url_ok("https:///path"));
    assert_false(hlc_notify_url_ok("http://a b/"));
    assert_false(hlc_notify_url_ok("http://a\nb/"));
    assert_false(hlc_notify_url_ok("javascript:alert(1)"));
    assert_false(hlc_notify_url_ok(NULL));
    char big[HLC_NOTIFY_URL_MAX + 20];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "https://", 8);
    assert_false(hlc_notify_url_ok(big));

    /* LAN and loopback stay allowed (homelabs run ntfy there) ... */
    assert_true(hlc_notify_url_ok("http://192.168.1.10:8080/alerts"));
    assert_true(hlc_notify_url_ok("http://10.0.0.5/topic"));
    assert_true(hlc_notify_url_ok("http://[::1]:8080/hook"));
    assert_true(hlc_notify_url_ok("http://[fd00::5]/hook"));
    assert_true(hlc_notify_url_ok("https://ntfy.lan./topic"));
    assert_true(hlc_notify_url_ok("http://beef/topic")); /* a name, though all hex */
    /* ... link-local, metadata, unspecified and numeric tricks do not. */
    assert_false(hlc_notify_url_ok("http://169.254.169.254/latest/meta-data/"));
    assert_false(hlc_notify_url_ok("http://169.254.1.1:80/"));
    assert_false(hlc_notify_url_ok("http://[fe80::1]/"));
    assert_false(hlc_notify_url_ok("http://[fe80::1%25eth0]/"));
    assert_false(hlc_notify_url_ok("http://[::ffff:169.254.169.254]/"));
    assert_false(hlc_notify_url_ok("http://[64:ff9b::a9fe:a9fe]/"));
    assert_false(hlc_notify_url_ok("http://[fd00:ec2::254]/"));
    assert_false(hlc_notify_url_ok("http://[::]/"));
    assert_false(hlc_notify_url_ok("http://0.0.0.0:8080/"));
    assert_false(hlc_notify_url_ok("http://100.100.100.200/"));
    assert_false(hlc_notify_url_ok("http://metadata.google.internal/computeMetadata/v1/"));
    assert_false(hlc_notify_url_ok("http://METADATA.Google.Internal./"));
    assert_false(hlc_notify_url_ok("http://2130706433/"));   /* 127.0.0.1 in disguise */
    assert_false(hlc_notify_url_ok("http://2852039166/"));   /* 169.254.169.254 */
    assert_false(hlc_notify_url_ok("http://0x7f.1/"));
    assert_false(hlc_notify_url_ok("http://0xa9.0xfe.0xa9.0xfe/"));
    assert_false(hlc_notify_url_ok("http://0251.0376.0251.0376/"));
    assert_false(hlc_notify_url_ok("http://127.1/"));
    assert_false(hlc_notify_url_ok("https://user:pw@hooks.slack.com/services/x"));
    assert_false(hlc_notify_url_ok("https://hooks.slack.com@169.254.169.254/"));
    assert_false(hlc_notify_url_ok("http://evil.lan\\@good.lan/"));
    assert_non_null(strstr(hlc_notify_url_problem("https://u:p@x.lan/"), "user:password@"));
    assert_non_null(strstr(hlc_notify_url_problem("http://0x7f.1/"), "four decimal"));

    /* The address rule applied after DNS, to what a name resolved to. */
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "169.254.169.254", &a4.sin_addr);
    assert_false(hlc_notify_addr_ok((struct sockaddr *)&a4));
    inet_pton(AF_INET, "192.168.0.1", &a4.sin_addr);
    assert_true(hlc_notify_addr_ok((struct sockaddr *)&a4));
    inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
    assert_true(hlc_notify_addr_ok((struct sockaddr *)&a4));
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "fe80::abcd", &a6.sin6_addr);
    assert_false(hlc_notify_addr_ok((struct sockaddr *)&a6));
    inet_pton(AF_INET6, "::ffff:169.254.0.1", &a6.sin6_addr);
    assert_false(hlc_notify_addr_ok((struct sockaddr *)&a6));
    inet_pton(AF_INET6, "ff02::1", &a6.sin6_addr);
    assert_false(hlc_notify_addr_ok((struct sockaddr *)&a6));
    inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
    assert_true(hlc_notify_addr_ok((struct sockaddr *)&a6));

    char *m = hlc_notify_url_mask("https://hooks.slack.com/services/T0/B0/secret");
    assert_string_equal(m, "https://hooks.slack.com/…");
    free(m);
    m = hlc_notify_url_mask("https://user:pw@ntfy.lan:8443/topic");
    assert_string_equal(m, "https://ntfy.lan:8443/…");
    free(m);
}

static void
test_colours(void **state)
{
    (void)state;
    assert_string_equal(hlc_notify_colour("alert_raised", "critical"), "#d50000");
    assert_string_equal(hlc_notify_colour("alert_raised", "high"), "#ff6d00");
    assert_string_equal(hlc_notify_colour("alert_raised", "medium"), "#ffd600");
    assert_string_equal(hlc_notify_colour("alert_raised", "low"), "#2979ff");
    assert_string_equal(hlc_notify_colour("alert_resolved", "critical"), "good");
}

static void
test_slack_body(void **state)
{
    (void)state;
    json_t *ev = event("alert_raised", "critical");
    json_object_set_new(ev, "remediation",
                        json_pack("{s:s, s:s, s:s}", "action_type", "restart_service", "target",
                                  "plex", "status", "pending"));
    struct hlc_notify_msg m;
    assert_int_equal(hlc_notify_build("slack", ev, 7, &m), 0);
    assert_string_equal(m.content_type, "application/json");
    json_t *b = json_loads(m.body, 0, NULL);
    assert_non_null(b);
    json_t *att = json_array_get(json_object_get(b, "attachments"), 0);
    assert_string_equal(json_string_value(json_object_get(att, "color")), "#d50000");
    assert_string_equal(json_string_value(json_object_get(att, "title")),
                        "🚨 CRITICAL: Disk almost full on /");
    const char *text = json_string_value(json_object_get(att, "text"));
    assert_non_null(strstr(text, "/ is 94.7% full"));
    assert_non_null(strstr(text, "Remediation queued: restart_service plex (pending approval"));
    assert_int_equal(json_integer_value(json_object_get(att, "ts")), 1795400000);
    json_t *fields = json_object_get(att, "fields");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 0), "value")),
                        "NAS (nas)");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 1), "value")),
                        "critical");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 2), "title")),
                        "Threshold");
    json_decref(b);
    hlc_notify_msg_free(&m);
    json_decref(ev);
}

static void
test_webhook_and_ntfy_bodies(void **state)
{
    (void)state;
    json_t *ev = event("alert_resolved", "high");
    struct hlc_notify_msg m;
    assert_int_equal(hlc_notify_build("webhook", ev, 42, &m), 0);
    json_t *b = json_loads(m.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(b, "event_id")), "hlc-42");
    assert_string_equal(json_string_value(json_object_get(b, "kind")), "alert_resolved");
    assert_string_equal(json_string_value(json_object_get(b, "headline")),
                        "✅ RESOLVED: Disk almost full on /");
    assert_string_equal(m.headers[0], "Idempotency-Key: hlc-42");
    json_decref(b);
    hlc_notify_msg_free(&m);

    json_t *raised = event("alert_raised", "critical");
    json_object_set_new(raised, "title", json_string("evil\r\nX-Injected: 1"));
    assert_int_equal(hlc_notify_build("ntfy", raised, 1, &m), 0);
    assert_string_equal(m.content_type, "text/plain; charset=utf-8");
    assert_null(strchr(m.headers[0], '\n'));
    assert_null(strchr(m.headers[0], '\r'));
    assert_string_equal(m.headers[1], "Priority: 5");
    assert_string_equal(m.headers[2], "Tags: rotating_light");
    assert_non_null(strstr(m.body, "Threshold: 90"));
    hlc_notify_msg_free(&m);
    assert_int_equal(hlc_notify_build("carrier-pigeon", raised, 1, &m), HLC_EINVAL);
    json_decref(raised);
    json_decref(ev);
}

/* A one-shot HTTP server on loopback answering a canned response. */
struct canned {
    int fd;
    const char *response;
};

static void *
serve_once(void *arg)
{
    struct canned *c = arg;
    int cfd = accept(c->fd, NULL, NULL);
    if (cfd >= 0) {
        char buf[8192];
        ssize_t n = recv(cfd, buf, sizeof(buf), 0);
        (void)n;
        ssize_t w = send(cfd, c->response, strlen(c->response), 0);
        (void)w;
        close(cfd);
    }
    return NULL;
}

static long
post_to(const char *response, struct hlc_notify_result *res)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    listen(fd, 1);
    struct canned c = {fd, response};
    pthread_t t;
    pthread_create(&t, NULL, serve_once, &c);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", ntohs(a.sin_port));
    struct hlc_notify_msg m = {.body = (char *)"{}", .content_type = "application/json"};
    hlc_notify_post(url, NULL, &m, 5000, NULL, res);
    pthread_join(t, NULL);
    close(fd);
    return res->status;
}

static void
test_post_classification(void **state)
{
    (void)state;
    struct hlc_notify_result r;
    assert_int_equal(post_to("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", &r), 200);
    assert_true(r.ok);
    assert_int_equal(post_to("HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n",
                             &r),
                     429);
    assert_false(r.ok);
    assert_true(r.retry);
    assert_int_equal(r.retry_after_s, 7);
    assert_int_equal(post_to("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", &r), 503);
    assert_true(r.retry);
    assert_int_equal(post_to("HTTP/1.1 404 Gone\r\nContent-Length: 0\r\n\r\n", &r), 404);
    assert_false(r.retry); /* a wrong URL never heals by itself */
    assert_non_null(strstr(r.error, "404"));
    /* nothing listening: a network error, retried */
    struct hlc_notify_msg m = {.body = (char *)"{}", .content_type = "application/json"};
    hlc_notify_post("http://127.0.0.1:1/x", NULL, &m, 2000, NULL, &r);
    assert_false(r.ok);
    assert_true(r.retry);
    hlc_notify_post("file:///etc/passwd", NULL, &m, 2000, NULL, &r);
    assert_false(r.ok);
    assert_false(r.retry);
}

int
main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_checks),
        cmocka_unit_test(test_colours),
        cmocka_unit_test(test_slack_body),
        cmocka_unit_test(test_webhook_and_ntfy_bodies),
        cmocka_unit_test(test_post_classification),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
