import type { BodyFormat, GatewayEvent, SubscriptionKind } from '@app/contracts';

/** The request body a subscription of this kind and format gets for the event. */
export function renderBody(event: GatewayEvent, kind: SubscriptionKind, format: BodyFormat): string {
  switch (kind) {
    case 'SLACK':
      return JSON.stringify(slackMessage(event));
    case 'STANDARD':
      return renderFormat(event, format);
  }
}

function renderFormat(event: GatewayEvent, format: BodyFormat): string {
  switch (format) {
    case 'standard':
      return JSON.stringify({ type: event.type, timestamp: event.time, data: event.data });
    case 'raw':
      return JSON.stringify(event.data);
    case 'cloudevents':
      return JSON.stringify({
        specversion: '1.0',
        id: event.id,
        source: event.source,
        type: event.type,
        time: event.time,
        ...(event.subject !== undefined && { subject: event.subject }),
        datacontenttype: event.datacontenttype ?? 'application/json',
        ...event.extensions,
        data: event.data,
      });
  }
}

const MAX_FIELDS = 10;
const MAX_FIELD_TEXT = 200;

/** A Slack message: the type and subject as text, the data's top-level scalar fields as block fields. */
function slackMessage(event: GatewayEvent): { text: string; blocks: unknown[] } {
  const title = event.subject ? `${event.type}: ${event.subject}` : event.type;
  const fields = Object.entries(event.data !== null && typeof event.data === 'object' && !Array.isArray(event.data) ? event.data : {})
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .slice(0, MAX_FIELDS)
    .map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${String(v).slice(0, MAX_FIELD_TEXT)}` }));
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } }];
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${event.source} · ${event.time} · ${event.id}` }] });
  return { text: title, blocks };
}
