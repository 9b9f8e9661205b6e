/** A CDR shaped like the API's (a subset of its 99 fields), with overrides. */
export function sampleCdr(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '1764248400abc',
    domain: 'acme.example.com',
    reseller: 'resell',
    'call-direction': 0,
    'call-start-datetime': '2026-11-27T13:00:00Z',
    'call-answer-datetime': '2026-11-27T13:00:05Z',
    'call-disconnect-datetime': '2026-11-27T13:02:05Z',
    'call-total-duration-seconds': 125,
    'call-talking-duration-seconds': 120,
    'call-on-hold-duration-seconds': 0,
    'call-orig-user': '101',
    'call-orig-caller-id': '2125550101',
    'call-orig-to-user': '14155550123',
    'call-term-user': null,
    'call-fax-codec': null,
    'call-intelligence-job-id': 'x',
    ...over,
  };
}
