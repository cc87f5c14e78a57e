import type Dockerode from 'dockerode';
import { SetupError } from '../app/setup-error';
import { firewallSubnet, openSubnetPorts } from './firewall';
import { runLabels } from './labels';

export interface SandboxNetwork {
  readonly name: string;
  readonly gateway: string;
  /** e.g. 10.89.3.0/24 */
  readonly subnet: string;
  /** Opens the host to these TCP ports only (the run's relays); call once. */
  firewall(allowedTcpPorts: number[]): void;
  /** After firewall(): opens more host ports to the network (an instance's own relays); returns the undo. */
  allow(tcpPorts: number[]): () => void;
  /** Removes the firewall rules and the network. */
  remove(): Promise<void>;
}

interface Ipam {
  Subnet: string;
  Gateway: string;
}

async function create(
  docker: Dockerode,
  name: string,
  runId: string,
  internal: boolean,
  ipam?: Ipam,
): Promise<{ network: Dockerode.Network; ipam: Ipam | undefined }> {
  const network = await docker.createNetwork({
    Name: name,
    Internal: internal,
    Labels: runLabels(runId),
    CheckDuplicate: true,
    ...(ipam ? { IPAM: { Driver: 'default', Config: [ipam] } } : {}),
  });
  const info = (await network.inspect()) as {
    IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
  };
  const config = info.IPAM?.Config?.[0];
  return {
    network,
    ipam:
      config?.Subnet && config.Gateway
        ? { Subnet: config.Subnet, Gateway: config.Gateway }
        : undefined,
  };
}

/**
 * A network of the run. `internal` (the app's): no route out; otherwise (the dependency stage's):
 * a route to the registry, and to no private or link-local address. Either way the host itself
 * is firewalled from it.
 *
 * Its subnet is the one the engine picks, then given back to it explicitly (the network is created
 * again with it): Docker accepts a container's fixed address (an app restarted at its address,
 * app-container.ts) only on a network whose subnet was configured ("user specified IP address is
 * supported only when connecting to networks with user configured subnets"); Podman either way.
 */
export async function createNetwork(
  docker: Dockerode,
  name: string,
  runId: string,
  opts: { internal: boolean },
): Promise<SandboxNetwork> {
  let pinned: { network: Dockerode.Network; ipam: Ipam } | undefined;
  let failure = 'it has no subnet/gateway';
  for (let attempt = 0; attempt < 3 && !pinned; attempt++) {
    const probe = await create(docker, name, runId, opts.internal);
    await probe.network.remove().catch(() => undefined);
    const ipam = probe.ipam;
    if (!ipam) break;
    // Another network may take that subnet in between: then ask the engine for a subnet again.
    await create(docker, name, runId, opts.internal, ipam).then(
      (c) => (pinned = { network: c.network, ipam }),
      (e: Error) => (failure = e.message),
    );
  }
  if (!pinned)
    throw new SetupError('checker', 'NETWORK', `the container network ${name}: ${failure}`);
  const { network, ipam: config } = pinned;
  const { Subnet: subnet, Gateway: gateway } = config;
  let unfirewall = (): void => undefined;
  return {
    name,
    gateway,
    subnet,
    firewall(allowedTcpPorts) {
      unfirewall = firewallSubnet({
        subnet,
        allowedTcpPorts,
        ...(opts.internal ? {} : { dnsServer: gateway, routed: true }),
      });
    },
    allow(tcpPorts) {
      return openSubnetPorts(subnet, tcpPorts);
    },
    async remove() {
      unfirewall();
      await network.remove().catch(() => undefined);
    },
  };
}
