import type { Command } from 'commander';
import { colorFor, createStyle } from '../reporters/style';
import type { Finding } from './doctor-probes';
import { EXIT, exitAfterFlush } from './exit';

interface DoctorFlags {
  databaseUrl?: string;
  redisUrl?: string;
  json?: boolean;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'what this machine has for grading (Node, npm, Postgres, Redis, whether runs are contained, container engine, images); exit 0 when local mode can grade',
    )
    .option(
      '--database-url <url>',
      'a Postgres to use instead of local binaries',
      process.env['DATABASE_URL'],
    )
    .option(
      '--redis-url <url>',
      'a Redis to use instead of a local redis-server',
      process.env['REDIS_URL'],
    )
    .option('--json', 'print the findings as JSON')
    .action(async (flags: DoctorFlags) => exitAfterFlush(await runDoctor(flags)));
}

async function runDoctor(flags: DoctorFlags): Promise<number> {
  // Loaded here: the probes load the container engine's client, which the other commands' --help does not need.
  const {
    probeContainerEngine,
    probeContainment,
    probeImages,
    probeNode,
    probeNpm,
    probePostgres,
    probeRedis,
  } = require('./doctor-probes') as typeof import('./doctor-probes');
  const local = [
    probeNode(),
    await probeNpm(),
    probePostgres(flags.databaseUrl),
    probeRedis(flags.redisUrl),
  ];
  const engine = await probeContainerEngine();
  const images = engine.socket ? await probeImages(engine.socket) : undefined;
  const optional = [probeContainment(), engine.finding, ...(images ? [images] : [])];
  const canGradeLocally = local.every((f) => f.ok);
  // Container mode needs both: an engine that answers and the images it runs.
  const canUseContainers = engine.finding.ok && images?.ok === true;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ canGradeLocally, canUseContainers, findings: [...local, ...optional] }, null, 2)}\n`,
    );
  } else {
    const s = createStyle(colorFor(process.stdout));
    const line = (f: Finding, optionalFinding: boolean): string => {
      const mark = f.ok ? s.green('✓') : optionalFinding ? s.yellow('-') : s.red('✗');
      return `${mark} ${f.name}: ${f.detail}${f.ok || !f.fix ? '' : `\n    ${s.dim(`-> ${f.fix}`)}`}`;
    };
    const out = [...local.map((f) => line(f, false)), ...optional.map((f) => line(f, true)), ''];
    out.push(
      canGradeLocally
        ? s.green('This machine can grade in local mode (`npx sandbox check --services local`).')
        : s.red('Local mode cannot grade yet: fix the ✗ lines above.'),
    );
    if (canUseContainers)
      out.push(
        'A container engine answers and has the images: `--services containers` is available.',
      );
    else if (engine.finding.ok)
      out.push(
        s.yellow(
          'A container engine answers, but the images above are missing: container mode is not available until they are built.',
        ),
      );
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return canGradeLocally ? EXIT.ok : EXIT.cannotGrade;
}
