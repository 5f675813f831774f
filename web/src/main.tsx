// The dashboard's entry (docs/dashboard.md): bundled by scripts/build-web.mjs into dist/web, served by
// the sidecar at GET / (src/dashboard/).
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app';
import { live } from './live';

live.start();
render(<App />, document.getElementById('app') as HTMLElement);
