import type Dockerode from 'dockerode';
import { SetupError } from '../app/setup-error';
import { firewallSubnet } from './firewall';
import { runLabels } from './labels';

export interface SandboxNetwork {
  readonly name: string;
  readonly gateway: string;
  /** e.g. 10.89.3.0/24 */
  readonly subnet: string;
  /** Opens the host to these TCP ports only (the run's relays); call once. */
  firewall(allowedTcpPorts: number[]): void;
  /** Removes the firewall rules and the network. */
  remove(): Promise<void>;
}

/**
 * A network of the run. `internal` (the app's): no route out; otherwise (the dependency stage's):
 * a route to the registry, and to no private or link-local address. Either way the host itself
 * is firewalled from it.
 */
export async function createNetwork(
  docker: Dockerode,
  name: string,
  runId: string,
  opts: { internal: boolean },
): Promise<SandboxNetwork> {
  const network = await docker.createNetwork({
    Name: name,
    Internal: opts.internal,
    Labels: runLabels(runId),
    CheckDuplicate: true,
  });
  const info = (await network.inspect()) as {
    IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
  };
  const config = info.IPAM?.Config?.[0];
  if (!config?.Subnet || !config.Gateway) {
    await network.remove().catch(() => undefined);
    throw new SetupError(
      'checker',
      'NETWORK',
      `the container network ${name} has no subnet/gateway`,
    );
  }
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
    async remove() {
      unfirewall();
      await network.remove().catch(() => undefined);
    },
  };
}
