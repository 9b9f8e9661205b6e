/**
 * The report stage's public surface: other stages import from here, never from its files.
 */
export { formatReportSummary } from './format-summary.ts';
export { startPreviewServer } from './preview-server.ts';
export { runReports } from './run-reports.ts';
export type { ReportRunSummary } from './run-reports.ts';
