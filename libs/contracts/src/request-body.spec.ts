import { keptBody, REQUEST_BODY_KEPT_BYTES } from './request-body.js';

describe('keptBody', () => {
  it('keeps a body within the limit whole', () => {
    expect(keptBody('{"a":1}')).toEqual({ body: '{"a":1}', bytes: 7, truncated: false });
  });

  it('keeps the first 64 KiB of a larger body and says how large it was', () => {
    const body = 'x'.repeat(REQUEST_BODY_KEPT_BYTES + 10);
    expect(keptBody(body)).toEqual({ body: 'x'.repeat(REQUEST_BODY_KEPT_BYTES), bytes: REQUEST_BODY_KEPT_BYTES + 10, truncated: true });
  });

  it('never cuts inside a multi-byte character', () => {
    // 'é' is two bytes: a limit of 5 falls inside the third one.
    const kept = keptBody('ééé', 5);
    expect(kept).toEqual({ body: 'éé', bytes: 6, truncated: true });
    expect(keptBody('a€', 3)).toEqual({ body: 'a', bytes: 4, truncated: true });
  });
});
