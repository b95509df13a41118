// Test sends (nudge send-test) carry message ids of their own, so that the links in them
// are inert: a tester who clicks "unsubscribe" in a test of a marketing mail must not
// unsubscribe the member the test was rendered for.
export const TEST_MESSAGE_PREFIX = 'test:'

export const isTestMessage = (messageId: string | undefined): boolean =>
  messageId?.startsWith(TEST_MESSAGE_PREFIX) === true
