/**
 * How the learner runs a `sandbox` command from where they are: `npm run check -- …` or
 * `npm run sandbox -- …` inside a workspace (the starter's scripts, which npm marks with
 * npm_lifecycle_event), `npx sandbox …` from the course folder.
 */
export function sandboxCommand(args: string): string {
  const viaWorkspaceScript = ['check', 'sandbox'].includes(
    process.env['npm_lifecycle_event'] ?? '',
  );
  if (!viaWorkspaceScript) return `npx sandbox ${args}`;
  const [command, ...rest] = args.split(' ');
  if (command === 'check')
    return rest.length ? `npm run check -- ${rest.join(' ')}` : 'npm run check';
  return `npm run sandbox -- ${args}`;
}
