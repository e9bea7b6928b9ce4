import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { CreateSubscriptionDto, OAuth2AuthDto, UpdateSubscriptionDto } from './subscription.dto.js';

/** The API's own pipe (bootstrap.ts): the messages a client gets for a bad `auth`. */
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
const base = { url: 'https://hooks.example.com/in', events: ['a.b'] };

async function problems(body: object, metatype: new () => object = CreateSubscriptionDto): Promise<string[]> {
  try {
    await pipe.transform(body, { type: 'body', metatype });
    return [];
  } catch (err) {
    if (!(err instanceof BadRequestException)) throw err;
    return (err.getResponse() as { message: string[] }).message;
  }
}

describe('auth in the subscription body', () => {
  it('accepts basic, bearer and oauth2, each validated as its own type', async () => {
    expect(await problems({ ...base, auth: { type: 'basic', username: 'hooks', password: 'p@ss word' } })).toEqual([]);
    expect(await problems({ ...base, auth: { type: 'bearer', token: 'abc.DEF-123_~+/=' } })).toEqual([]);
    const oauth = { type: 'oauth2', token_url: 'https://idp.example.com/token', client_id: 'gw', client_secret: 's', scope: 'a b', audience: 'https://api', client_auth: 'body' };
    expect(await problems({ ...base, auth: oauth })).toEqual([]);
    const dto = (await pipe.transform({ ...base, auth: oauth }, { type: 'body', metatype: CreateSubscriptionDto })) as CreateSubscriptionDto;
    expect(dto.auth).toBeInstanceOf(OAuth2AuthDto);
    expect(dto.auth).toMatchObject({ type: 'oauth2', client_auth: 'body' });
  });

  it('names the field of a bad auth', async () => {
    expect(await problems({ ...base, auth: { type: 'digest' } })).toContain('auth.type must be one of basic, bearer, oauth2');
    expect(await problems({ ...base, auth: { type: 'oauth2', token_url: 'ftp://idp/token', client_id: 'gw', client_secret: 's' } })).toEqual([
      'auth.token_url must be an http(s) URL',
    ]);
    expect(await problems({ ...base, auth: { type: 'oauth2', token_url: 'https://idp/token', client_id: 'gw', client_secret: 's', client_auth: 'jwt' } })).toEqual([
      'auth.client_auth must be one of basic, body',
    ]);
    expect(await problems({ ...base, auth: { type: 'oauth2', token_url: 'https://idp/token', client_id: 'gw' } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^auth\.client_secret /)]),
    );
    expect(await problems({ ...base, auth: { type: 'basic', username: 'a:b', password: 'p' } })).toEqual(['auth.username must not contain a colon or a line break']);
    expect(await problems({ ...base, auth: { type: 'basic', username: 'a' } })).toEqual(expect.arrayContaining([expect.stringMatching(/^auth\.password /)]));
    expect(await problems({ ...base, auth: { type: 'bearer', token: 'two words' } })).toEqual(['auth.token must be visible ASCII characters without spaces']);
    expect(await problems({ ...base, auth: { type: 'bearer', token: 'line\r\nX-Injected: 1' } })).toEqual(['auth.token must be visible ASCII characters without spaces']);
  });

  it("refuses another type's fields (the type decides which apply)", async () => {
    expect(await problems({ ...base, auth: { type: 'bearer', token: 't', password: 'p' } })).toEqual(['auth.property password should not exist']);
  });

  it('is optional, and null clears it on PATCH', async () => {
    expect(await problems(base)).toEqual([]);
    expect(await problems({ auth: null }, UpdateSubscriptionDto)).toEqual([]);
    expect(await problems({ auth: { type: 'bearer', token: 't' } }, UpdateSubscriptionDto)).toEqual([]);
    expect(await problems({ auth: { type: 'bearer' } }, UpdateSubscriptionDto)).toEqual(expect.arrayContaining([expect.stringMatching(/^auth\.token /)]));
  });
});
