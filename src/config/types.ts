// The validated configuration every other module receives. Produced only by
// src/config/load.ts (parse + default + validate once), then frozen.

import type { ControllerKind, ControllerSettingsOverrides } from '../model.js';

/** A probe schedule: a fixed interval, or a node-cron expression (six fields allowed: seconds first). */
export type Schedule = { kind: 'interval'; everyMs: number } | { kind: 'cron'; expression: string };

/** How hopwatch reaches the cluster. */
export interface ClusterConfig {
  /** Path of a kubeconfig file; null: in-cluster, then $KUBECONFIG, then ~/.kube/config. */
  kubeconfig: string | null;
  /** kubeconfig context; null for the current one. */
  context: string | null;
  /** Cluster DNS domain used to build Service names. */
  clusterDomain: string;
  /** DNS server for dns hops ("ip:port" or "ip"); null: the system resolver. */
  dnsServer: string | null;
  /** Namespaces to watch; null: all. */
  namespaces: string[] | null;
}

/** One ingress controller: which class it serves, where its edge and pods are. */
export interface ControllerConfig {
  /** IngressClass name it serves. */
  ingressClass: string;
  /** Controller type (keys the controller knowledge table). */
  kind: ControllerKind;
  /** The address users hit over HTTP; null: the Ingress status.loadBalancer address, port 80. */
  edge: string | null;
  /** The address users hit over HTTPS; null: status.loadBalancer, port 443. */
  edgeHttps: string | null;
  /** The controller's own pods, probed one by one. */
  pods: {
    /** Namespace of the controller pods. */
    namespace: string;
    /** Label selector of the controller pods. */
    selector: string;
    /** Port the pods serve HTTP on. */
    httpPort: number;
    /** Port the pods serve HTTPS on. */
    httpsPort: number;
  };
  /** How the controller reaches backends: pod endpoints or the Service ClusterIP. */
  upstream: 'endpoints' | 'service';
  /** Controller-wide settings that differ from the kind's defaults (timeouts, header buffer, upstream keep-alive); absent: the defaults. */
  settings?: ControllerSettingsOverrides;
}

/** Overrides for one Gateway: what hopwatch cannot find or reach by itself. */
export interface GatewayConfig {
  /** Namespace of the Gateway. */
  namespace: string;
  /** Name of the Gateway. */
  name: string;
  /** The implementation (keys the knowledge table); null: from the GatewayClass's controllerName. */
  kind: ControllerKind | null;
  /** The address users hit over HTTP; null: the Gateway's status.addresses on the listener port. */
  edge: string | null;
  /** The address users hit over HTTPS; null: status.addresses on the listener port. */
  edgeHttps: string | null;
  /** The data-plane pods; null: found by the implementation's labels (GEP-1762 and others). */
  pods: { namespace: string; selector: string; httpPort: number | null } | null;
  /** Settings that differ from the implementation's defaults; absent: the defaults. */
  settings?: ControllerSettingsOverrides;
}

/** How each hop is probed. */
export interface ProbeConfig {
  /** Per-hop deadline. */
  timeoutMs: number;
  /** Most hop probes in flight at once, across all routes. */
  concurrency: number;
}

/** When routes are probed. */
export interface ScheduleConfig {
  /** The schedule of every route without an override. */
  default: Schedule;
  /** Per-route overrides: the first entry whose match fits a route wins (the hopwatch.io/schedule annotation wins over all). */
  overrides: { match: { namespace: string | null; ingress: string | null }; schedule: Schedule }[];
  /** Most time a round may start after its slot before it counts as late and is skipped. */
  lateAfterMs: number;
}

/** Where history is kept and for how long. */
export interface StoreConfig {
  /** SQLite file path. */
  path: string;
  /** Retention per tier in days; null keeps forever. */
  retention: { rawDays: number | null; minuteDays: number | null; hourDays: number | null; dayDays: number | null };
  /** Optional size cap of the database file in MiB (oldest raw data pruned first); null: none. */
  maxSizeMb: number | null;
}

/** When incidents open and close. */
export interface IncidentConfig {
  /** Consecutive non-ok rounds that open an incident. */
  openAfter: number;
  /** Consecutive ok rounds that close it. */
  closeAfter: number;
}

/** The daemon's HTTP server. */
export interface ServerConfig {
  /** host:port to listen on. */
  listen: string;
  /** Bearer token protecting /api/v1 (config or $HOPWATCH_TOKEN); null: open. */
  token: string | null;
}

/** One alert receiver. */
export interface WebhookConfig {
  /** Receiver URL. */
  url: string;
  /** Payload shape: generic JSON or Slack-compatible. */
  kind: 'json' | 'slack';
  /** Extra request headers. */
  headers: Record<string, string>;
}

/** Alerting on incident open and close. */
export interface AlertConfig {
  /** Receivers. */
  webhooks: WebhookConfig[];
  /** The dashboard's address as people reach it (behind an Ingress or a port-forward), linked from every alert; null: no link. */
  dashboardUrl: string | null;
}

/** hopwatch's own Prometheus series. */
export interface MetricsConfig {
  /** Constant labels on every series, e.g. { cluster: "prod-eu" } to tell clusters apart in one Prometheus. */
  labels: Record<string, string>;
}

/** Two or more replicas: one leads (sends incident alerts) by holding a coordination.k8s.io/v1 Lease. */
export interface HaConfig {
  /** Take part in leader election; false: this replica always leads (the single-replica install). */
  enabled: boolean;
  /** Name of the Lease. */
  leaseName: string;
  /** Namespace of the Lease; null: the pod's own namespace (service-account file), else "hopwatch". */
  leaseNamespace: string | null;
  /** This replica's holder identity; null: $POD_NAME, else the host name. */
  identity: string | null;
  /** How long a Lease stays held without a renewal (leaseDurationSeconds). */
  leaseDurationMs: number;
  /** How often the leader renews and a standby tries to take the Lease. */
  renewEveryMs: number;
}

/** Discovery tuning. */
export interface DiscoveryConfig {
  /** Restart a watch that has seen no event for this long (client-node sets no watch timeout). */
  watchIdleRestartMs: number;
  /** Longest wait between informer restarts after errors. */
  maxBackoffMs: number;
  /** How often API discovery is asked again whether the Gateway API is installed, while it is not. */
  gatewayApiRecheckMs: number;
}

/** The whole validated configuration. */
export interface Config {
  /** Cluster access. */
  cluster: ClusterConfig;
  /** Ingress controllers. */
  controllers: ControllerConfig[];
  /** Per-Gateway overrides (Gateway API); empty: everything found from the cluster. */
  gateways: GatewayConfig[];
  /** Probing. */
  probe: ProbeConfig;
  /** Scheduling. */
  schedule: ScheduleConfig;
  /** History store. */
  store: StoreConfig;
  /** Incidents. */
  incidents: IncidentConfig;
  /** HTTP server. */
  server: ServerConfig;
  /** Alerts. */
  alerts: AlertConfig;
  /** Metric labels. */
  metrics: MetricsConfig;
  /** Leader election. */
  ha: HaConfig;
  /** Discovery tuning. */
  discovery: DiscoveryConfig;
}
