/* global console, process */
// Sums Vitest JSON reports (one per run) into the line CI ends with: "N passed, N failed, N skipped".
// A test that was skipped counts as failed: the suite skips nothing on purpose, and a skip is
// how a missing database or a failed beforeAll (Vitest skips the tests under it) would hide.
// Exits non-zero when any run failed, skipped a test, or left no report.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const [label, file] of process.argv.slice(2).map((arg) => arg.split('='))) {
  if (!existsSync(file) || readFileSync(file).length === 0) {
    console.log(`${label}: no test report (the run crashed before it finished)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const skips = report.testResults.flatMap((result) =>
    result.assertionResults.filter((test) => test.status !== 'passed' && test.status !== 'failed').map((test) => test.fullName),
  );
  // A file that failed with no test failed or skipped (an error outside any test): count the file.
  const brokenFiles = report.testResults.filter(
    (result) => result.status === 'failed' && result.assertionResults.every((test) => test.status === 'passed'),
  );
  // Named here, next to the last line, so a failure in a long log is found without scrolling.
  for (const result of report.testResults) {
    for (const test of result.assertionResults.filter((t) => t.status === 'failed')) {
      const why = (test.failureMessages[0] ?? '').split('\n')[0].slice(0, 300);
      console.log(`${label}: failed: ${result.name.replace(`${process.cwd()}/`, '')} > ${test.fullName}: ${why}`);
    }
  }
  for (const name of skips) console.log(`${label}: skipped, which CI counts as failed: ${name}`);
  for (const result of brokenFiles) console.log(`${label}: file failed outside its tests: ${result.name} ${result.message}`);
  const runFailed = report.numFailedTests + skips.length + brokenFiles.length;
  console.log(`${label}: ${report.numPassedTests} passed, ${runFailed} failed, ${skips.length} skipped`);
  passed += report.numPassedTests;
  failed += runFailed;
  skipped += skips.length;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
