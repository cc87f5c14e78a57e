import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { installBridge, readBridge, type FileBridge, type RunBridge } from './bridge';

/** jest's node environment, plus the grading run's bridge (from the outer realm) on the check file's global. */
export default class SandboxEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const bridge = readBridge<RunBridge>(globalThis);
    if (bridge) {
      const fileBridge: FileBridge = { bridge, testPath: context.testPath };
      installBridge(this.global, fileBridge);
    }
  }
}
