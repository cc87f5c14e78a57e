// A checker that starts a run's services and disposes of them: what the next `sandbox check` does.
import { startLocalServices } from '../../src/services/local-services';

void startLocalServices({})
  .then((s) => s.dispose())
  .then(() => process.stdout.write('done\n'));
