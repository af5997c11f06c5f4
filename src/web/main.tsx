/** Entry point of the web UI bundle (scripts/build-web.mjs): styles, link handling, the app. */
import { render } from 'preact';
import { App } from './app';
import { interceptLinkClicks } from './router';
import './styles.css';

interceptLinkClicks();
render(<App />, document.getElementById('app')!);
