/** Trade rating vectors: increments, minimums, connect fees, rounding. Shared by the TS and SQL tests. */
export interface Vector {
  name: string;
  talkS: number;
  initial: number;
  subsequent: number;
  minimum: number;
  perMinute: string;
  connectFee: string;
  decimals: number;
  billableS: number;
  /** DECIMAL(18,6) text. */
  charge: string;
}

const v = (
  name: string,
  talkS: number,
  inc: string,
  perMinute: string,
  billableS: number,
  charge: string,
  extra: Partial<Vector> = {},
): Vector => {
  const [initial, subsequent] = inc.split('/').map(Number) as [number, number];
  return { name, talkS, initial, subsequent, minimum: 0, perMinute, connectFee: '0', decimals: 2, billableS, charge, ...extra };
};

export const VECTORS: Vector[] = [
  v('60/60 one second bills a minute', 1, '60/60', '0.10', 60, '0.100000'),
  v('60/60 exactly a minute', 60, '60/60', '0.10', 60, '0.100000'),
  v('60/60 61 s bills two minutes', 61, '60/60', '0.10', 120, '0.200000'),
  v('60/6 59 s bills the first 60', 59, '60/6', '0.10', 60, '0.100000'),
  v('60/6 61 s bills 66', 61, '60/6', '0.10', 66, '0.110000'),
  v('60/6 125 s bills 126', 125, '60/6', '0.10', 126, '0.210000'),
  v('30/6 10 s bills 30', 10, '30/6', '0.12', 30, '0.060000'),
  v('30/6 31 s bills 36', 31, '30/6', '0.12', 36, '0.070000'), // 0.072 -> 0.07
  v('6/6 1 s bills 6', 1, '6/6', '0.012', 6, '0.000000'), // 0.0012 -> 0.00
  v('6/6 7 s bills 12', 7, '6/6', '0.60', 12, '0.120000'),
  v('10/6 30 s bills 34 (the trade example)', 30, '10/6', '0.60', 34, '0.340000'),
  v('10/6 11 s bills 16', 11, '10/6', '0.60', 16, '0.160000'),
  v('1/1 per-second billing', 37, '1/1', '0.60', 37, '0.370000'),
  v('unanswered bills nothing, not even the connect fee', 0, '60/60', '0.10', 0, '0.000000', { connectFee: '0.25' }),
  v('minimum 30 s lifts a 5 s call to 30', 5, '6/6', '0.60', 30, '0.300000', { minimum: 30 }),
  v('minimum 30 s leaves a 31 s call at 36', 31, '6/6', '0.60', 36, '0.360000', { minimum: 30 }),
  v('minimum 60 s at 60/60 premium with connect fee', 10, '60/60', '0.99', 60, '1.240000', { minimum: 60, connectFee: '0.25' }),
  v('connect fee added once per answered call', 60, '60/6', '0.012', 60, '0.060000', { connectFee: '0.05' }), // 0.062 -> 0.06
  v('connect fee kept at 4 decimals', 60, '60/6', '0.012', 60, '0.062000', { connectFee: '0.05', decimals: 4 }),
  v('half-up: exactly half a cent rounds up', 30, '1/1', '0.01', 30, '0.010000'), // 0.005 -> 0.01
  v('half-up: just under half a cent rounds down', 30, '1/1', '0.009', 30, '0.000000'), // 0.0045 -> 0.00
  v('half-up at 0 decimals', 90, '1/1', '1', 90, '2.000000', { decimals: 0 }), // 1.5 -> 2
  v('6 decimals keep the exact micro value', 7, '1/1', '0.013', 7, '0.001517', { decimals: 6 }), // 0.0015166.. -> 0.001517
  v('long call at 60/6', 3601, '60/6', '0.0125', 3606, '0.750000'), // 0.75125 -> 0.75
];

/** Which rule prices a call line, from the numbers as the PBX wrote them. Shared by the TS and SQL tests. */
export interface RuleVector {
  name: string;
  direction: 'outbound' | 'inbound' | 'missed' | 'internal';
  callerNumber: string;
  dialedNumber: string;
  /** number_class of the DID (the customer's own number on the call). */
  didClass: string;
  rule: 'deck' | 'inbound' | 'toll-free-inbound' | 'internal' | 'none';
  /** calls.call_class */
  callClass: string;
}

export const RULE_VECTORS: RuleVector[] = [
  {
    name: 'inbound to an ordinary DID',
    direction: 'inbound',
    callerNumber: '3105550000',
    dialedNumber: '2125550100',
    didClass: 'domestic',
    rule: 'inbound',
    callClass: 'domestic',
  },
  {
    name: 'inbound to a toll-free DID',
    direction: 'inbound',
    callerNumber: '3105550000',
    dialedNumber: '18005550100',
    didClass: 'toll-free',
    rule: 'toll-free-inbound',
    callClass: 'toll-free',
  },
  {
    name: 'inbound from a toll-free caller to an ordinary DID',
    direction: 'inbound',
    callerNumber: '+18885550123',
    dialedNumber: '2125550100',
    didClass: 'domestic',
    rule: 'inbound',
    callClass: 'domestic',
  },
  {
    name: 'inbound from a toll-free caller to a toll-free DID',
    direction: 'inbound',
    callerNumber: '8665550123',
    dialedNumber: '+18775550100',
    didClass: 'toll-free',
    rule: 'toll-free-inbound',
    callClass: 'toll-free',
  },
  {
    name: 'missed call from a toll-free caller',
    direction: 'missed',
    callerNumber: '18005551212',
    dialedNumber: '2125550100',
    didClass: 'domestic',
    rule: 'inbound',
    callClass: 'domestic',
  },
  {
    name: 'anonymous caller to a toll-free DID',
    direction: 'inbound',
    callerNumber: 'anonymous',
    dialedNumber: '18445550100',
    didClass: 'toll-free',
    rule: 'toll-free-inbound',
    callClass: 'toll-free',
  },
  {
    name: 'inbound from abroad to an ordinary DID',
    direction: 'inbound',
    callerNumber: '+442071234567',
    dialedNumber: '2125550100',
    didClass: 'domestic',
    rule: 'inbound',
    callClass: 'international',
  },
  {
    name: 'outbound to a toll-free number uses the deck',
    direction: 'outbound',
    callerNumber: '2125550100',
    dialedNumber: '18005551212',
    didClass: 'domestic',
    rule: 'deck',
    callClass: 'toll-free',
  },
  {
    name: 'outbound from a toll-free caller id uses the deck',
    direction: 'outbound',
    callerNumber: '18005550100',
    dialedNumber: '3105550000',
    didClass: 'toll-free',
    rule: 'deck',
    callClass: 'domestic',
  },
  {
    name: 'internal is free',
    direction: 'internal',
    callerNumber: '101',
    dialedNumber: '102',
    didClass: 'unknown',
    rule: 'internal',
    callClass: 'internal',
  },
];
