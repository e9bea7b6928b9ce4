// The demo's subscriptions and source events, modelled on the seed webhook docs
// (Edgegap deployments, Qovery deployment events, Deep Image job completion).
// Every id is fresh per run; the payloads use documentation addresses (203.0.113.0/24,
// example.com) that nothing ever connects to.
import { randomUUID } from 'node:crypto';
import avro from 'avsc';

const SOURCE_TOPIC = 'demo.events';

/**
 * The subscriptions the demo creates. `path` is the receiver path each one
 * posts to; `body` is what the create request sends besides the url.
 */
export function subscriptionSpecs(qoverySecret) {
  return [
    {
      name: 'edgegap',
      path: '/edgegap',
      title: 'Edgegap deployment webhook',
      body: {
        events: ['deployment.*'],
        format: 'raw',
        filters: { source: ['edgegap'] },
        description: 'Edgegap: POST the deployment status object when a deployment is READY or ERROR',
      },
    },
    {
      name: 'qovery',
      path: '/qovery',
      title: 'Qovery STANDARD webhook',
      body: {
        events: ['DEPLOYMENT_SUCCESSFUL', 'DEPLOYMENT_FAILURE'],
        kind: 'STANDARD',
        filters: { 'data.payload.environment.type': ['PRODUCTION'], 'data.payload.project.name': ['shop-*'] },
        headers: { 'Qovery-Secret': qoverySecret },
        description: 'Qovery: production deployments of shop-* projects, secret in Qovery-Secret',
      },
    },
    {
      name: 'qovery-slack',
      path: '/qovery-slack',
      title: 'Qovery SLACK webhook',
      body: {
        events: ['DEPLOYMENT_SUCCESSFUL', 'DEPLOYMENT_FAILURE'],
        kind: 'SLACK',
        filters: { 'data.payload.environment.type': ['PRODUCTION'], 'data.payload.project.name': ['shop-*'] },
        description: 'Qovery: the same events as a Slack message',
      },
    },
    {
      name: 'deep-image',
      path: '/deep-image',
      title: 'Deep Image job webhook',
      body: {
        events: ['job.completed'],
        format: 'raw',
        filters: { source: ['deep-image'] },
        description: 'Deep Image: POST {job, data, result_url, results} when a job completes',
      },
    },
  ];
}

/** The Edgegap /v1/status/{request_id} object of a deployment that ended. */
function edgegapStatus(requestId, ok) {
  const common = {
    request_id: requestId,
    fqdn: `${requestId}.pr.edgegap.net`,
    app_name: 'speedtest',
    app_version: 'v1',
    public_ip: '203.0.113.42',
    ports: {
      gameport: { external: 31504, internal: 7777, protocol: 'UDP', name: 'gameport', tls_upgrade: false, link: `${requestId}.pr.edgegap.net:31504` },
    },
    location: { city: 'Montreal', country: 'Canada', continent: 'North America', administrative_division: 'Quebec', timezone: 'America/Toronto' },
    start_time: '2024-05-18 18:07:14.210470',
    tags: ['demo'],
    sessions: [],
  };
  return ok
    ? { ...common, current_status: 'Status.READY', running: true, elapsed_time: 6, last_status: 'Status.DEPLOYING', error: false, error_detail: '' }
    : {
        ...common,
        current_status: 'Status.ERROR',
        running: false,
        elapsed_time: 31,
        last_status: 'Status.DEPLOYING',
        error: true,
        error_detail: 'container exited with code 1 before its ports were ready',
      };
}

/** The Qovery webhook envelope of a deployment event. */
function qoveryEnvelope(eventType, { project, envName, envType }) {
  const id = randomUUID();
  return {
    created_at: new Date().toISOString(),
    event_type: eventType,
    payload_type: 'DEPLOYMENT',
    payload_id: id,
    payload: {
      id,
      current_status: 'DEPLOYED',
      desired_status: 'DEPLOYED',
      organization: { id: '3d1f5c3e-6b0a-4c9e-9a57-2f1f9d1e8a10', name: 'Acme' },
      project: { id: '0b7b1c2e-8f3d-4a55-b0c6-6a4a3c2d1e0f', name: project },
      environment: { id: randomUUID(), name: envName, type: envType },
      applications: [{ id: randomUUID(), name: 'storefront', commit_id: '9f2c4e1' }],
      databases: [],
      containers: [],
      jobs: [],
      logs: [],
    },
  };
}

/** A Deep Image job completion as an Avro record: the event's attributes and its data, in field order. */
const DEEP_IMAGE_AVRO = {
  type: 'record',
  name: 'JobCompleted',
  namespace: 'demo.deepimage',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'type', type: 'string' },
    { name: 'source', type: 'string' },
    {
      name: 'data',
      type: {
        type: 'record',
        name: 'Job',
        fields: [
          { name: 'job', type: 'string' },
          { name: 'data', type: { type: 'record', name: 'Image', fields: [{ name: 'url', type: 'string' }, { name: 'width', type: 'int' }, { name: 'height', type: 'int' }] } },
          { name: 'result_url', type: 'string' },
          { name: 'results', type: ['null', 'string'], default: null },
        ],
      },
    },
  ],
};

/** Registers the Avro schema under the topic's value subject (the registry's Confluent API); its id. */
async function registerAvro(registryUrl, schema) {
  const res = await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${SOURCE_TOPIC}-value`)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
    signal: AbortSignal.timeout(20_000),
  });
  if (!res.ok) throw new Error(`registering the Avro schema answered ${res.status}: ${await res.text()}`);
  return (await res.json()).id;
}

/**
 * The source records of a run, in publish order, each with the webhooks it must
 * (or must not) cause. Four wire forms on purpose: CloudEvents structured JSON,
 * plain JSON, CloudEvents binary mode (ce_* headers) and Avro through the schema
 * registry (Confluent wire format, made by the gateway's own `wireFormat`), plus one that is not JSON.
 */
export async function sourceEvents(runId, registryUrl, wireFormat) {
  const now = () => new Date().toISOString();
  const ready = edgegapStatus(`a1b2c3${runId.slice(0, 6)}`, true);
  const failed = edgegapStatus(`d4e5f6${runId.slice(0, 6)}`, false);
  const shopProd = qoveryEnvelope('DEPLOYMENT_SUCCESSFUL', { project: 'shop-frontend', envName: 'production', envType: 'PRODUCTION' });
  const shopStaging = qoveryEnvelope('DEPLOYMENT_SUCCESSFUL', { project: 'shop-frontend', envName: 'staging', envType: 'STAGING' });
  const deepImageJob = randomUUID();
  const deepImage = {
    job: deepImageJob,
    data: { url: 'https://deep-image.ai/api-example.png', width: 1000, height: 1000 },
    result_url: `https://images.example.com/results/${deepImageJob}.png`,
    results: null,
  };

  const avroJob = randomUUID();
  const avroData = { job: avroJob, data: { url: 'https://deep-image.ai/api-example-2.png', width: 640, height: 480 }, result_url: `https://images.example.com/results/${avroJob}.png`, results: null };
  const avroEvent = { id: randomUUID(), type: 'job.completed', source: 'deep-image', data: avroData };
  const schemaId = await registerAvro(registryUrl, DEEP_IMAGE_AVRO);
  const avroRecord = {
    label: `Deep Image job completed (Avro, schema id ${schemaId})`,
    form: 'Avro, Confluent wire format',
    id: avroEvent.id,
    type: avroEvent.type,
    source: avroEvent.source,
    data: avroData,
    message: { key: avroJob, value: wireFormat(schemaId, avro.Type.forSchema(DEEP_IMAGE_AVRO).toBuffer(avroEvent)) },
  };

  const structured = (label, source, type, subject, data) => {
    const id = randomUUID();
    return {
      label,
      form: 'CloudEvent, structured',
      id,
      type,
      source,
      data,
      message: { key: subject, value: JSON.stringify({ specversion: '1.0', id, source, type, time: now(), subject, datacontenttype: 'application/json', data }) },
    };
  };
  const plain = (label, type, subject, data) => {
    const id = randomUUID();
    return {
      label,
      form: 'plain JSON',
      id,
      type,
      // Plain events without a source get kafka:<topic> (see the producer's event reader).
      source: `kafka:${SOURCE_TOPIC}`,
      data,
      message: { key: subject, value: JSON.stringify({ id, type, subject, time: now(), data }) },
    };
  };
  const binary = (label, source, type, subject, data) => {
    const id = randomUUID();
    return {
      label,
      form: 'CloudEvent, binary mode',
      id,
      type,
      source,
      data,
      message: {
        key: subject,
        value: JSON.stringify(data),
        headers: {
          ce_specversion: '1.0',
          ce_id: id,
          ce_source: source,
          ce_type: type,
          ce_time: now(),
          ce_subject: subject,
          'content-type': 'application/json',
        },
      },
    };
  };

  return [
    { ...structured('Edgegap deployment READY', 'edgegap', 'deployment.ready', ready.request_id, ready), expect: ['edgegap'] },
    { ...structured('Edgegap deployment ERROR', 'edgegap', 'deployment.error', failed.request_id, failed), expect: ['edgegap'] },
    { ...plain('Qovery DEPLOYMENT_SUCCESSFUL shop-frontend/PRODUCTION', 'DEPLOYMENT_SUCCESSFUL', 'shop-frontend/production', shopProd), expect: ['qovery', 'qovery-slack'] },
    { ...plain('Qovery DEPLOYMENT_SUCCESSFUL shop-frontend/STAGING', 'DEPLOYMENT_SUCCESSFUL', 'shop-frontend/staging', shopStaging), expect: [] },
    { ...binary('Deep Image job completed', 'deep-image', 'job.completed', deepImageJob, deepImage), expect: ['deep-image'] },
    { ...avroRecord, expect: ['deep-image'] },
    {
      label: 'malformed event (not JSON)',
      form: 'broken JSON',
      invalid: true,
      expect: [],
      message: { key: `demo-${runId}-malformed`, value: '{"id": "evt-1", "type": "deployment.ready", "data": {"request_id": ' },
    },
  ];
}
