// Which hopwatch replica this page reads and whether it leads (sends incident alerts): shown in the
// top bar when hopwatch runs with ha.enabled (two replicas behind one Service, each with its own
// history). /readyz carries it in detail.replica; a lone replica shows nothing.

const REFRESH_MS = 15_000;

/** The label of a replica detail: "replica hopwatch-0 · leads" or "replica hopwatch-1 · standby (leader hopwatch-0)". */
export function replicaLabel(replica) {
  if (!replica || !replica.identity) return null;
  if (replica.leader) return `replica ${replica.identity} · leads`;
  return `replica ${replica.identity} · standby${replica.holder ? ` (leader ${replica.holder})` : ''}`;
}

async function refresh(element) {
  try {
    const res = await fetch('readyz', { headers: { accept: 'application/json' } });
    const body = await res.json();
    const label = replicaLabel(body && body.detail ? body.detail.replica : null);
    element.hidden = label === null;
    element.textContent = label ?? '';
    element.dataset.leader = String(Boolean(body?.detail?.replica?.leader));
  } catch {
    // The daemon is restarting: keep the last label.
  }
}

/** Starts showing the replica in `element` and keeps it current. */
export function showReplica(element) {
  if (!element) return;
  void refresh(element);
  setInterval(() => void refresh(element), REFRESH_MS);
}
