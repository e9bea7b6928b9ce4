import protobuf from 'protobufjs';
import { protobufToJson, wellKnownRoot } from './protobuf-json.js';

const PROTO = `
syntax = "proto3";
package acme.deploys;

import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/any.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";

enum State { STATE_UNKNOWN = 0; READY = 1; ERROR = 2; }

message Deployment {
  string deployment_id = 1;
  int64 size = 2;
  uint64 count = 3;
  State state = 4;
  bytes digest = 5;
  oneof target { string region = 6; int32 zone = 7; }
  google.protobuf.Timestamp started_at = 8;
  google.protobuf.Duration took = 9;
  google.protobuf.Int64Value quota = 10;
  google.protobuf.StringValue note = 11;
  google.protobuf.BoolValue flag = 12;
  google.protobuf.Struct labels = 13;
  google.protobuf.Any detail = 14;
  repeated Step steps = 15;
  map<string, Step> by_name = 16;
  google.protobuf.Empty nothing = 17;
  google.protobuf.FieldMask mask = 18;
  google.protobuf.Duration back = 19;
  message Step { string name = 1; google.protobuf.Timestamp at = 2; }
}

message Other { string text = 1; }
`;

/** Encodes `value` as the message `name` of PROTO with protobufjs (the writer), after `indexes` (wire-format message indexes, as bytes). */
function encode(name: string, value: object, indexes = Buffer.from([0])): Buffer {
  const root = protobuf.parse(PROTO, wellKnownRoot()).root;
  const type = root.lookupType(name);
  return Buffer.concat([indexes, type.encode(type.fromObject(value)).finish()]);
}

describe('Protobuf → JSON (proto3 JSON mapping)', () => {
  const read = protobufToJson(PROTO);

  it('renders 64-bit integers as strings, enums by name, bytes as base64, the set oneof field only, lowerCamelCase names, defaults left out', () => {
    const out = read(encode('acme.deploys.Deployment', { deploymentId: 'd-1', size: '9007199254740993', count: '18446744073709551615', state: 2, digest: Buffer.from('hi'), zone: 3 }));
    expect(out).toEqual({ deploymentId: 'd-1', size: '9007199254740993', count: '18446744073709551615', state: 'ERROR', digest: 'aGk=', zone: 3 });
  });

  it('renders Timestamp as RFC 3339, Duration as seconds, wrappers as their value, Struct as JSON, Empty as {}, FieldMask as paths', () => {
    const out = read(
      encode('acme.deploys.Deployment', {
        startedAt: { seconds: Date.parse('2026-12-03T10:20:30Z') / 1000, nanos: 450_000_000 },
        took: { seconds: 1, nanos: 500_000_000 },
        quota: { value: '12345678901234567' },
        note: { value: 'hello' },
        flag: {},
        labels: { fields: { env: { stringValue: 'prod' }, n: { numberValue: 2 }, on: { boolValue: true }, none: { nullValue: 0 }, tags: { listValue: { values: [{ stringValue: 'a' }] } }, deep: { structValue: { fields: { k: { stringValue: 'v' } } } } } },
        nothing: {},
        mask: { paths: ['state', 'steps.name'] },
        back: { seconds: -2, nanos: -250_000_000 },
      }),
    );
    expect(out).toEqual({
      startedAt: '2026-12-03T10:20:30.450Z',
      took: '1.500s',
      quota: '12345678901234567',
      note: 'hello',
      flag: false,
      labels: { env: 'prod', n: 2, on: true, none: null, tags: ['a'], deep: { k: 'v' } },
      nothing: {},
      mask: 'state,steps.name',
      back: '-2.250s',
    });
  });

  it('renders Any as {"@type", …fields} with the packed message mapped too, repeated and map fields of messages, nested types', () => {
    const root = protobuf.parse(PROTO, wellKnownRoot()).root;
    const Step = root.lookupType('acme.deploys.Deployment.Step');
    const packed = Step.encode(Step.fromObject({ name: 'inner', at: { seconds: 0, nanos: 1000 } })).finish();
    const out = read(
      encode('acme.deploys.Deployment', {
        detail: { type_url: 'type.googleapis.com/acme.deploys.Deployment.Step', value: packed },
        steps: [{ name: 'build', at: { seconds: 60 } }],
        byName: { b: { name: 'build' } },
      }),
    );
    expect(out).toEqual({
      detail: { '@type': 'type.googleapis.com/acme.deploys.Deployment.Step', name: 'inner', at: '1970-01-01T00:00:00.000001Z' },
      steps: [{ name: 'build', at: '1970-01-01T00:01:00Z' }],
      byName: { b: { name: 'build' } },
    });
  });

  it('picks the message by the wire format\'s indexes: a lone 0 is the first message, [1] the second, [0, 0] the first nested one', () => {
    expect(read(encode('acme.deploys.Other', { text: 'second' }, Buffer.from([0x02, 0x02])))).toEqual({ text: 'second' });
    expect(read(encode('acme.deploys.Deployment.Step', { name: 'nested' }, Buffer.from([0x04, 0x00, 0x00])))).toEqual({ name: 'nested' });
    expect(() => read(encode('acme.deploys.Other', { text: 'x' }, Buffer.from([0x02, 0x08])))).toThrow('no message at index 4');
  });

  it('reads messages of referenced schemas', () => {
    const common = 'syntax = "proto3"; package acme.common; message Owner { string name = 1; }';
    const main = 'syntax = "proto3"; package acme.app; import "acme/common.proto"; message Event { acme.common.Owner owner = 1; }';
    const root = protobuf.parse(common).root;
    protobuf.parse(main, root);
    const Event = root.lookupType('acme.app.Event');
    const payload = Buffer.concat([Buffer.from([0]), Event.encode(Event.fromObject({ owner: { name: 'ana' } })).finish()]);
    expect(protobufToJson(main, [common])(payload)).toEqual({ owner: { name: 'ana' } });
  });

  it('throws on bytes the schema does not read', () => {
    expect(() => read(Buffer.from([0, 0x0a, 0xff]))).toThrow();
  });
});
