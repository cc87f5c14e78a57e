import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/**
 * What a contained run sees of the machine's files, deny by default: a root of its own (a tmpfs)
 * holding the system's folders read-only (programs, libraries, configuration), /dev, a /proc that
 * shows only the run's own processes, private empty scratch folders (/tmp, /var/tmp, /dev/shm),
 * and the paths it is given (its run dir, node's installation, the course's hoisted
 * node_modules). Nothing else: not /home, /root, /srv, /work, another checkout of the course,
 * other runs, the machine's /run. Built by a script of mounts run as root inside the run's mount
 * namespace (confine.ts), then chroot.
 */

/** Top-level entries of / a program needs: executables, libraries, configuration, kernel views. */
const SYSTEM = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'usr', 'etc', 'sys'];

/** Where each namespace mounts its root (the folder is empty on the machine; the mounts are private). */
export const VIEW_ROOT = '/run/backend-sandbox/view-root';
const SCRIPTS = '/run/backend-sandbox/views';

/** Size of each private scratch folder; its pages count against the run's memory limit. */
const SCRATCH_SIZE = '64m';

export interface ViewPath {
  readonly path: string;
  /** `setup`: writable for install scripts and the build, read-only for the app. */
  readonly writable: boolean | 'setup';
}

export interface FilesystemView {
  /** Paths shown at their own place, besides the system: the run dir (writable), node, linked folders. */
  readonly show: readonly ViewPath[];
  /** Paths inside what is shown that stay hidden (the course's checks and checker, e.g. under a global npm install). */
  readonly hide: readonly string[];
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const isUnder = (p: string, dir: string): boolean =>
  p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Where node is installed (bin/node, lib/node_modules/npm): shown read-only when outside the system folders. */
export function nodePrefix(): string {
  return path.dirname(path.dirname(realOrSelf(process.execPath)));
}

const inSystem = (p: string): boolean => SYSTEM.some((d) => isUnder(p, `/${d}`));

/** The shell lines (sh, run as root in the run's own mount namespace; $1 is `setup` or `app`) that build the view at VIEW_ROOT. */
export function viewScript(view: FilesystemView): string {
  const R = VIEW_ROOT;
  const lines = ['set -e', `mount -t tmpfs -o mode=0755,nosuid,nodev,size=1m sandbox-root ${q(R)}`];
  for (const name of SYSTEM) {
    const p = `/${name}`;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) lines.push(`ln -s ${q(readlinkSync(p))} ${q(R + p)}`);
    else if (st.isDirectory())
      lines.push(
        `mkdir ${q(R + p)}`,
        `mount --rbind ${q(p)} ${q(R + p)}`,
        `mount -o remount,bind,ro ${q(R + p)}`,
      );
  }
  lines.push(
    `mkdir ${q(`${R}/dev`)} ${q(`${R}/proc`)} ${q(`${R}/tmp`)}`,
    `mount --rbind /dev ${q(`${R}/dev`)}`,
    `mount -t proc -o hidepid=2,nosuid,nodev,noexec proc ${q(`${R}/proc`)}`,
    `mkdir -p ${q(`${R}/var/tmp`)}`,
  );
  for (const d of ['/tmp', '/var/tmp', '/dev/shm'])
    lines.push(`mount -t tmpfs -o nosuid,nodev,size=${SCRATCH_SIZE},mode=1777 scratch ${q(R + d)}`);
  const shown = view.show
    .map((s) => ({ ...s, path: realOrSelf(s.path) }))
    .filter((s) => existsSync(s.path) && !(inSystem(s.path) && !s.writable));
  for (const s of shown) {
    const target = R + s.path;
    const isDir = lstatSync(s.path).isDirectory();
    lines.push(
      isDir ? `mkdir -p ${q(target)}` : `mkdir -p ${q(path.dirname(target))} && : > ${q(target)}`,
      `mount --bind ${q(s.path)} ${q(target)}`,
      ...(s.writable === true
        ? []
        : s.writable === 'setup'
          ? [`[ "$1" = setup ] || mount -o remount,bind,ro ${q(target)}`]
          : [`mount -o remount,bind,ro ${q(target)}`]),
    );
  }
  for (const h of view.hide.map(realOrSelf)) {
    const visible = inSystem(h) || shown.some((s) => isUnder(h, s.path));
    if (!visible || !existsSync(h)) continue;
    lines.push(
      lstatSync(h).isDirectory()
        ? `mount -t tmpfs -o ro,nosuid,nodev,noexec,size=4k,mode=0755 hidden ${q(R + h)}`
        : `mount --bind /dev/null ${q(R + h)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the run's view script (root-only) and the shared mount point; returns the script's path. */
export function writeViewScript(uid: number, view: FilesystemView): string {
  mkdirSync(VIEW_ROOT, { recursive: true, mode: 0o755 });
  mkdirSync(SCRIPTS, { recursive: true, mode: 0o700 });
  const file = path.join(SCRIPTS, `${uid}.sh`);
  writeFileSync(file, viewScript(view), { mode: 0o600 });
  return file;
}

/**
 * Where the confinement of `uid`'s processes records that it could not be set up (the view's
 * mounts, the cgroups): root's own folder, out of the run's reach once it runs, so learner code
 * can neither write the marker nor fake a checker failure with an exit code.
 */
export function setupFailureMarker(uid: number): string {
  return path.join(SCRIPTS, `${uid}.failed`);
}

/** The confinement's own failure (its output), once: the marker is removed. */
export function takeSetupFailure(uid: number): string | undefined {
  const file = setupFailureMarker(uid);
  if (!existsSync(file)) return undefined;
  let text = '';
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    // unreadable: still a failure of the confinement
  }
  rmSync(file, { force: true });
  return text || 'no output';
}

export function removeViewScript(uid: number): void {
  rmSync(path.join(SCRIPTS, `${uid}.sh`), { force: true });
  rmSync(setupFailureMarker(uid), { force: true });
}
