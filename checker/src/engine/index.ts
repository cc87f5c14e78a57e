// The container engine's plumbing, as the rest of the checker uses it. The learner's code runs in
// two places here: the build stage (build/) and the app container (app-container.ts).
export { engine, ENGINE_SETUP_HINT, findEngine, useEngine } from './client';
export { resolveImages, OFFICIAL_IMAGES, localImagesFile, type SandboxImages } from './images';
export { containerLimits, type ContainerLimits } from './limits';
export { buildWorkspaceImage } from './build/build-image';
export {
  cachedImages,
  DEPS_IMAGE_REPO,
  holdImage,
  imageCacheCaps,
  pruneImageCache,
  WORKSPACE_IMAGE_REPO,
} from './build/image-cache';
export { ContainerApp } from './app-container';
export { prepareContainerRuntime, type ContainerRuntime } from './container-runtime';
export {
  containerServicesReady,
  keepContainerServicesWarm,
  leaseContainerServices,
  startContainerServices,
  stopContainerServices,
  WarmContainerServices,
  type ContainerServices,
  type WarmServiceLease,
} from './service-containers';
export { countLabelled, countOwnedBy, removeLabelled, type RemovedCount } from './sweep';
export { firewallAvailable, sandboxFirewallRules, sweepFirewallRules } from './firewall';
