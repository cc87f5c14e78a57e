import { describeBrokenCases } from './support/broken-catalogue';

// The broken catalogue, second half (the first, with the catalogue's size: broken.test.ts).
describeBrokenCases(1, 2);
