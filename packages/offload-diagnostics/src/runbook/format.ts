import type { DiagnosticReport } from './types.js';

/** The report for a terminal: verdict, one line per step, then findings with their actions. */
export function formatDiagnosticReport(report: DiagnosticReport): string {
  const { verdict } = report;
  const lines = [
    `Diagnosis at ${report.generatedAt.toISOString()} over the last ${report.hours} h: ${verdict.status.toUpperCase()}` +
      (verdict.scenarios.length > 0 ? ` (${verdict.scenarios.join(', ')})` : ''),
    '',
    'Steps:',
  ];
  for (const [name, step] of Object.entries(report.steps)) {
    lines.push(`  ${name.padEnd(16)} ${step.status.padEnd(8)} ${step.reason ?? ''}`.trimEnd());
    for (const evidence of step.evidence) lines.push(`  ${''.padEnd(16)} - ${evidence.reason}`);
  }
  if (report.findings.length === 0) {
    lines.push('', 'No findings: every measured value is within its bounds.');
  } else {
    lines.push('', 'Findings:');
    for (const finding of report.findings) {
      lines.push(`  [${finding.severity}] ${finding.scenario}${finding.table ? ` ${finding.table}` : ''}: ${finding.message}`);
      for (const action of finding.actions) lines.push(`      -> ${action}`);
    }
  }
  if (verdict.unknownSteps.length > 0) lines.push('', `Not measured: ${verdict.unknownSteps.join(', ')} (see each step's reason).`);
  return lines.join('\n');
}
