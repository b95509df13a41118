// Rates over messaging counts (docs/metrics.md). A rate whose denominator is 0 is null:
// "no message was delivered" is not a 0% click rate.

export interface RateInputs {
  readonly sent: number
  readonly delivered: number
  readonly bounced: number
  readonly opened: number
  readonly clicked: number
  readonly converted: number
  readonly unsubscribed: number
}

export interface Rates {
  /** opened / delivered */
  readonly openRate: number | null
  /** clicked / delivered (CTR) */
  readonly ctr: number | null
  /** converted / delivered: conversions within the journey's goal window */
  readonly conversionRate: number | null
  /** unsubscribed / delivered */
  readonly unsubscribeRate: number | null
  /** bounced / sent */
  readonly bounceRate: number | null
}

export const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d)

export function rates(c: RateInputs): Rates {
  return {
    openRate: ratio(c.opened, c.delivered),
    ctr: ratio(c.clicked, c.delivered),
    conversionRate: ratio(c.converted, c.delivered),
    unsubscribeRate: ratio(c.unsubscribed, c.delivered),
    bounceRate: ratio(c.bounced, c.sent),
  }
}
