import { fromRegistry } from '../../src/sandbox/dependency-sources';

describe('fromRegistry: which package.json specs the checker lets npm fetch', () => {
  it.each([
    '1.2.3',
    '^5.0.0',
    '>=1 <2',
    'latest',
    '*',
    '',
    'npm:pg@^8',
    'npm:@types/node@20',
    'npm:left-pad',
  ])('accepts the registry spec %j', (spec) => expect(fromRegistry(spec)).toBe(true));
  it.each([
    'http://169.254.169.254/x.tgz',
    'https://example.com/x.tgz',
    'git+ssh://git@github.com/a/b.git',
    'github:a/b',
    'a/b',
    'file:../secret',
    'link:/etc',
    'npm:x@http://10.0.0.1/x.tgz',
    'npm:@scope/x@file:../y',
    'npm:http://10.0.0.1/x.tgz',
  ])('refuses %j', (spec) => expect(fromRegistry(spec)).toBe(false));
  it('refuses what is not a string', () => expect(fromRegistry({ version: '1' })).toBe(false));
});
