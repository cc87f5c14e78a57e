// jest 30 formats a failed assertion's stack "between tests" and then lazily requires
// convert-source-map, which its runtime refuses ("require outside the scope of the test
// code"): the whole file then reports "Test suite failed to run" and hides the real failure.
// Loading it up front, inside the test context, puts it in the module registry first.
require('convert-source-map');
