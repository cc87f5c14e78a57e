import { readFileSync, writeFileSync } from 'node:fs';
import { contractSection, lessonContract, sameContract, withContract } from './contract';
import { courseRoot, lessonPath, loadSteps } from './paths';

/** Copies each step's section of steps/CONTRACT.md into its lesson; returns the lessons changed. */
export function syncContracts(root: string = courseRoot()): string[] {
  const changed: string[] = [];
  for (const step of loadSteps(root)) {
    const path = lessonPath(step);
    const lesson = readFileSync(path, 'utf8');
    const section = contractSection(root, step);
    if (sameContract(lessonContract(lesson), section)) continue;
    writeFileSync(path, withContract(lesson, section));
    changed.push(step.folder);
  }
  return changed;
}
