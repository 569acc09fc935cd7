// Defaults that depend on where hopwatch runs: the in-cluster defaults (in a pod) and the HOPWATCH_*
// variables the container image sets. They fill only the fields the configuration file and the
// flags leave unset, so the order is: flags > file > HOPWATCH_* > in-cluster > built-in defaults.
// Pure: the environment and file existence are parameters.

/** The service-account token every pod gets; its presence (with KUBERNETES_SERVICE_HOST) means in-cluster. */
export const SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** $HOPWATCH_CONFIG: the configuration file used when --config is not given. */
export const ENV_CONFIG = 'HOPWATCH_CONFIG';
/** $HOPWATCH_LISTEN: server.listen when the file sets none. */
export const ENV_LISTEN = 'HOPWATCH_LISTEN';
/** $HOPWATCH_DB: store.path when the file sets none. */
export const ENV_DB = 'HOPWATCH_DB';

/** server.listen in a pod: every interface, so the kubelet's probes, the Service and Prometheus reach it. */
export const IN_CLUSTER_LISTEN = '0.0.0.0:8080';
/** store.path in a pod: the /data volume (a PersistentVolumeClaim in deploy/kubernetes). */
export const IN_CLUSTER_DB = '/data/hopwatch.db';

/** One default from the environment: the value and where it came from (named in error messages). */
export interface EnvironmentDefault {
  /** The value, as the YAML field would hold it. */
  value: string;
  /** "$HOPWATCH_LISTEN" or "in-cluster default". */
  origin: string;
}

/** The defaults the environment gives, null where it gives none. */
export interface EnvironmentDefaults {
  /** Default of server.listen. */
  listen: EnvironmentDefault | null;
  /** Default of store.path. */
  db: EnvironmentDefault | null;
}

/** True in a pod: KUBERNETES_SERVICE_HOST set and the service-account token mounted (client-node's own test). */
export function runsInCluster(env: NodeJS.ProcessEnv, fileExists: (path: string) => boolean): boolean {
  return nonEmpty(env['KUBERNETES_SERVICE_HOST']) && fileExists(SERVICE_ACCOUNT_TOKEN_PATH);
}

/** The defaults of server.listen and store.path: $HOPWATCH_LISTEN / $HOPWATCH_DB, else the in-cluster ones in a pod. */
export function environmentDefaults(env: NodeJS.ProcessEnv, fileExists: (path: string) => boolean): EnvironmentDefaults {
  const inCluster = runsInCluster(env, fileExists);
  const pick = (variable: string, inClusterValue: string): EnvironmentDefault | null => {
    const value = env[variable];
    if (nonEmpty(value)) return { value: value.trim(), origin: `$${variable}` };
    return inCluster ? { value: inClusterValue, origin: 'in-cluster default' } : null;
  };
  return { listen: pick(ENV_LISTEN, IN_CLUSTER_LISTEN), db: pick(ENV_DB, IN_CLUSTER_DB) };
}

/** The configuration file $HOPWATCH_CONFIG names, null when unset or blank. */
export function configFileFromEnv(env: NodeJS.ProcessEnv): string | null {
  const value = env[ENV_CONFIG];
  return nonEmpty(value) ? value.trim() : null;
}

/** A set, non-blank environment value. */
export function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}
