// unsaved.ts - "Leave without saving?": a form with changes not yet saved holds the
// page. The app routes by hash with its own links (no router), so its link clicks
// and back/forward are guarded here, and closing or reloading the tab by beforeunload.
import { useEffect, useId } from 'react';

export const LEAVE_PROMPT = 'Leave without saving?';

/** The forms (by hook id) that hold changes not yet saved. */
const dirty = new Set<string>();

export function hasUnsaved(): boolean { return dirty.size > 0; }

/** Marks the calling form as holding unsaved changes while `on` is true. */
export function useUnsaved(on: boolean): void {
  const id = useId();
  useEffect(() => {
    if (!on) return;
    dirty.add(id);
    return () => { dirty.delete(id); };
  }, [on, id]);
}

/** True when nothing is unsaved or the operator agrees to lose it (then it is let go). */
export function mayLeave(): boolean {
  if (!dirty.size) return true;
  if (!window.confirm(LEAVE_PROMPT)) return false;
  dirty.clear();
  return true;
}

/** Navigation after a save or a delete: nothing is left to lose. */
export function go(hash: string): void {
  dirty.clear();
  window.location.hash = hash;
}

function onClick(e: MouseEvent) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a[href]');
  if (!a || a.getAttribute('target') === '_blank') return;
  const href = a.getAttribute('href') ?? '';
  // Only the app's own routes: a link that loads another page is beforeunload's.
  if (!href.startsWith('#') || href === (window.location.hash || '#/')) return;
  if (!mayLeave()) { e.preventDefault(); e.stopPropagation(); }
}

function onBeforeUnload(e: BeforeUnloadEvent) {
  if (!dirty.size) return;
  e.preventDefault();
  e.returnValue = ''; // older Chromium asks only when this is set
}

/** Installs the guards once for the app; answers the function that removes them. */
export function installLeaveGuard(): () => void {
  document.addEventListener('click', onClick, true);
  window.addEventListener('beforeunload', onBeforeUnload);
  return () => {
    document.removeEventListener('click', onClick, true);
    window.removeEventListener('beforeunload', onBeforeUnload);
  };
}

/**
 * For a hashchange the guard did not see (back, forward, a typed address): true when
 * it may go on; otherwise the address is put back and the page stays.
 */
export function keepOnBack(e: HashChangeEvent): boolean {
  if (mayLeave()) return true;
  window.history.pushState(null, '', e.oldURL);
  return false;
}
