// Entry point of the web app: a report (data inlined by `circuit view --export`) is shown
// through ReportSource, anything else talks to the `circuit serve` that served the page.
import './app/styles.css';
import { App } from './app/app';
import { LiveSource } from './data/live_source';
import { ReportSource, inlinedReport } from './data/report_source';
import type { DataSource } from './data/source';

function start(): void {
  const root = document.getElementById('app');
  if (!root) return;
  let source: DataSource;
  try {
    const report = inlinedReport();
    source = report ? new ReportSource(report) : new LiveSource();
  } catch (err) {
    root.textContent = `This report cannot be read: ${err instanceof Error ? err.message : String(err)}`;
    return;
  }
  const app = new App(root, source);
  void app.start();
}

start();
