import type { AdminStats } from '@discord-images/sdk';
import { useEffect, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../../api.js';
import { Page } from '../../components/page.js';
import { formatBytes, formatCount } from './format.js';

// The API's days are UTC dates: shown as such, whatever the reader's zone.
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const dayLabel = (date: string): string => dayFormat.format(new Date(`${date}T00:00:00Z`));
const uploadsText = (count: number) => `${formatCount(count)} ${count === 1 ? 'upload' : 'uploads'}`;

/** The server's usage now: accounts, live uploads and their bytes, and uploads per day for the last 30 days. */
export function AdminUsagePage({ onSignedOut }: { onSignedOut: () => void }) {
  const [stats, setStats] = useState<AdminStats | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = async (signal?: AbortSignal) => {
    setLoading(true);
    setError(null);
    try {
      setStats(await di.admin.stats({ signal }));
    } catch (failure) {
      if (signal?.aborted) return;
      if (isSignedOut(failure)) onSignedOut();
      else setError(messageOf(failure));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, []);

  return (
    <Page
      title="Usage"
      actions={
        <button type="button" class="button small" disabled={loading} onClick={() => void load()}>
          {loading && stats ? 'Refreshing…' : 'Refresh'}
        </button>
      }
    >
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      {!stats ? (
        !error && <p class="muted">Loading the server’s usage…</p>
      ) : (
        <>
          <dl class="stat-cards">
            <div class="stat-card">
              <dt>Accounts</dt>
              <dd data-stat="users">{formatCount(stats.users)}</dd>
            </div>
            <div class="stat-card">
              <dt>Uploads</dt>
              <dd data-stat="uploads">{formatCount(stats.uploads)}</dd>
            </div>
            <div class="stat-card">
              <dt>Storage used</dt>
              <dd data-stat="bytes">
                {formatBytes(stats.bytes)}
                <small class="exact">{formatCount(stats.bytes)} bytes</small>
              </dd>
            </div>
          </dl>
          <p class="hint">Live uploads only. An image uploaded twice counts twice, as quotas count it, though it is stored once.</p>
          <DaysChart days={stats.days} />
        </>
      )}
    </Page>
  );
}

/** Uploads per day as SVG bars, summed up in words for screen readers, with the numbers as a table. */
function DaysChart({ days }: { days: AdminStats['days'] }) {
  const total = days.reduce((sum, day) => sum + day.uploads, 0);
  const peak = days.reduce(
    (best, day) => (day.uploads > (best?.uploads ?? 0) ? day : best),
    undefined as AdminStats['days'][number] | undefined,
  );
  const max = Math.max(1, peak?.uploads ?? 0);
  const first = days[0];
  const last = days.at(-1);
  const summary =
    first && last
      ? `Uploads per day from ${dayLabel(first.date)} to ${dayLabel(last.date)} (UTC): ${uploadsText(total)} in all` +
        (peak ? `, most on ${dayLabel(peak.date)} (${formatCount(peak.uploads)}).` : ', none on any day.')
      : 'No days to show.';
  // 10 units per day, bars 7 wide; the height is 100 units whatever the peak.
  const width = days.length * 10;
  return (
    <section class="panel chart" aria-labelledby="chart-title">
      <h2 id="chart-title">Uploads per day, last {days.length} days</h2>
      <div class="chart-plot">
        <span class="chart-max" aria-hidden="true">
          {formatCount(max)}
        </span>
        <svg class="bars" viewBox={`0 0 ${width} 100`} preserveAspectRatio="none" role="img" aria-labelledby="chart-summary">
          {days.map((day, index) => {
            const height = (day.uploads / max) * 100;
            return (
              <rect
                key={day.date}
                class={day.uploads === 0 ? 'bar empty-bar' : 'bar'}
                x={index * 10 + 1.5}
                y={100 - height}
                width={7}
                height={height}
              >
                <title>{`${dayLabel(day.date)}: ${uploadsText(day.uploads)}, ${formatBytes(day.bytes)}`}</title>
              </rect>
            );
          })}
          <line class="axis" x1={0} x2={width} y1={100} y2={100} vector-effect="non-scaling-stroke" />
        </svg>
      </div>
      {first && last && (
        <div class="chart-dates" aria-hidden="true">
          <span>{dayLabel(first.date)}</span>
          <span>{dayLabel(last.date)}</span>
        </div>
      )}
      <p id="chart-summary" class="chart-summary">
        {summary}
      </p>
      <details class="chart-table">
        <summary>Show the numbers as a table</summary>
        <table>
          <caption class="offscreen-caption">Uploads per day (UTC), newest first</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Uploads</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {[...days].reverse().map((day) => (
              <tr key={day.date} data-date={day.date}>
                <th scope="row">
                  <time dateTime={day.date}>{dayLabel(day.date)}</time>
                </th>
                <td>{formatCount(day.uploads)}</td>
                <td>{formatBytes(day.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
