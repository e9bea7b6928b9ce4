/** The logical pattern of the source topics (SOURCE_TOPICS) for the batch transport. */
export const SOURCE_EVENTS = 'source-events';
