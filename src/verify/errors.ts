// The two ways a verification does not produce a pass/fail answer: a bad parameter (the caller's
// mistake: CLI exit 2, HTTP 400) and "could not verify" (no such ingress, no canary pods, nothing
// reachable: CLI exit 2, HTTP 5xx). A failing canary is neither: it is a report with ok: false.

/** Why a verification could not run. */
export type CannotVerifyCode =
  | 'NO_INGRESS' // the Ingress does not exist
  | 'NO_ROUTE' // the Ingress has no route matching --host / --path
  | 'NOT_PROBEABLE' // the route cannot be probed (regex path without probe-path, resource backend, ignored)
  | 'NO_DEPLOYMENT' // --wait-rollout names a Deployment that does not exist
  | 'NO_OWNER' // the backend pods are not owned by ReplicaSets of one Deployment: give --canary
  | 'NO_CANARY' // no canary pods
  | 'NO_SAMPLES' // nothing could be judged (every target unreachable from where hopwatch runs)
  | 'NOT_SYNCED' // the daemon has not synced with the Kubernetes API yet: it would see no Ingress at all
  | 'ABORTED'; // the caller went away or the process is stopping

/** A verification that could not produce a pass/fail answer. */
export class CannotVerifyError extends Error {
  /** Stable code. */
  readonly code: CannotVerifyCode;

  constructor(code: CannotVerifyCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CannotVerifyError';
    this.code = code;
  }
}

/** A verification parameter that is missing, unknown or invalid; names the parameter. */
export class VerifyParamError extends Error {
  /** Stable code. */
  readonly code = 'BAD_PARAMETER';
  /** The parameter as the caller spelled it (camelCase, or kebab-case from the CLI). */
  readonly parameter: string;
  /** What is wrong with it, without the parameter's name. */
  readonly reason: string;

  constructor(parameter: string, reason: string, options?: { cause?: unknown }) {
    super(`parameter "${parameter}": ${reason}`, options);
    this.name = 'VerifyParamError';
    this.parameter = parameter;
    this.reason = reason;
  }
}
