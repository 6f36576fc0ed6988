import { createSocket } from 'node:dgram';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpNoticeSender, RefusedEndpointError } from '../../../shared/adapters/http/notice-sender.js';
import { isUnreachableAddress } from '../../../shared/clients/public-addresses.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';

/**
 * The notice sender is a webhook sender: in production (an https issuer) it posts to public https
 * endpoints only, checks every address a name resolves to and connects to the one checked, so a platform's
 * events URI cannot make the service reach its own network (the cloud metadata address, a private
 * service). Tried against a real receiver on this machine: a refused request never reaches it. No request
 * is ever sent to a private range: those are refused before any connection (their literal addresses) and
 * only classified here.
 */

let receiver: FakeHttpServer;
const production = new HttpNoticeSender({ allowLoopback: false, timeoutMs: 2000 });
const local = new HttpNoticeSender({ allowLoopback: true, timeoutMs: 2000 });

beforeAll(async () => {
  receiver = await startFakeHttpServer();
  receiver.answer((_, res) => {
    res.writeHead(202).end();
  });
});
afterAll(() => receiver.close());

const port = () => new URL(receiver.url()).port;

describe('in production', () => {
  it.each([
    ['plain http', () => receiver.url('/events')],
    ['https to a name resolving to loopback', () => `https://localhost:${port()}/events`],
    ['https to a loopback address', () => `https://127.0.0.1:${port()}/events`],
    ['https to an IPv4-mapped loopback address', () => `https://[::ffff:127.0.0.1]:${port()}/events`],
    ['https to a private address', () => 'https://10.20.30.40/events'],
    ['https to the metadata address', () => 'https://169.254.169.254/latest/meta-data'],
    ['https to a unique-local IPv6 address', () => 'https://[fd12::1]/events'],
    ['https to an IPv4-compatible loopback address', () => `https://[::127.0.0.1]:${port()}/events`],
    ['https to a 6to4 address of a private one', () => 'https://[2002:a00:1::1]/events'],
    ['https to a Teredo address', () => 'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/events'],
    ['https to a NAT64 address of the metadata one', () => 'https://[64:ff9b::169.254.169.254]/events'],
  ])('refuses %s, sending nothing', async (_, url) => {
    const before = receiver.received.length;
    await expect(production.send(url(), 'a.b.c')).rejects.toBeInstanceOf(RefusedEndpointError);
    expect(receiver.received.length).toBe(before);
  });
});

describe('in the local runtime', () => {
  it('posts to loopback over http, as application/secevent+jwt', async () => {
    await local.send(receiver.url('/events'), 'a.b.c');
    expect(receiver.received.at(-1)).toMatchObject({
      method: 'POST',
      url: '/events',
      body: 'a.b.c',
      headers: expect.objectContaining({ 'content-type': 'application/secevent+jwt' }),
    });
  });

  it('still refuses private addresses other than loopback', async () => {
    await expect(local.send('https://192.168.1.1/events', 'a.b.c')).rejects.toBeInstanceOf(
      RefusedEndpointError,
    );
  });

  it('fails on an answer other than 2xx, and follows no redirect', async () => {
    receiver.answer((_, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    });
    await expect(local.send(receiver.url('/events'), 'a.b.c')).rejects.toThrow('answered 302');
    receiver.answer((_, res) => {
      res.writeHead(500).end();
    });
    await expect(local.send(receiver.url('/events'), 'a.b.c')).rejects.toThrow('answered 500');
  });
});

/** Answers `text` one byte every 300 ms, then one more byte every 300 ms forever (until the client hangs up). */
function drip(response: ServerResponse, text: string) {
  const socket = response.socket!;
  let sent = 0;
  const timer = setInterval(() => socket.write(text[sent++] ?? 'a'), 300);
  socket.on('close', () => clearInterval(timer));
}

describe('a platform that drips its answer', () => {
  // Each byte comes well within the socket's idle timeout (1 s), so only a deadline for the whole attempt
  // ends it: without one, the notices function is killed at its time limit before it counts the attempt.
  const quick = new HttpNoticeSender({ allowLoopback: true, timeoutMs: 1000 });

  it('is given up on at the deadline when it drips its status line and headers', async () => {
    receiver.answer((_, res) => drip(res, 'HTTP/1.1 202 Accepted\r\nx-padding: '));
    const started = Date.now();
    await expect(quick.send(receiver.url('/events'), 'a.b.c')).rejects.toThrow(
      'did not answer within 1000 ms',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(1600);
  });

  it('has delivered once the status is in, however slowly the body comes', async () => {
    receiver.answer((_, res) => {
      res.socket!.write('HTTP/1.1 202 Accepted\r\ncontent-length: 1000\r\n\r\n');
      drip(res, '');
    });
    const started = Date.now();
    await quick.send(receiver.url('/events'), 'a.b.c');
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('a platform whose DNS server never answers', () => {
  it('is given up on at the deadline, its name asked of the DNS servers, not through getaddrinfo', async () => {
    // getaddrinfo (`dns.lookup`) would hold one of libuv's four threads for as long as the server stalls
    // (review R12); the sender asks the servers itself, with the attempt's timeout.
    const silent = createSocket('udp4');
    const asked: number[] = [];
    silent.on('message', (message) => asked.push(message.length));
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const server = `127.0.0.1:${silent.address().port}`;
    const sender = new HttpNoticeSender({ allowLoopback: false, timeoutMs: 500, dnsServers: [server] });
    try {
      const started = Date.now();
      await expect(sender.send('https://platform.example/events', 'a.b.c')).rejects.toMatchObject({
        code: 'ETIMEOUT',
      });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(asked.length).toBeGreaterThan(0);
    } finally {
      silent.close();
    }
  });

  it('takes localhost for loopback without asking anyone', async () => {
    await expect(production.send(`https://localhost:${port()}/events`, 'a.b.c')).rejects.toThrow(
      'resolves to a non-public address',
    );
  });
});

describe('the address ranges', () => {
  it.each([
    ['10.0.0.1', true],
    ['172.16.5.4', true],
    ['192.168.0.1', true],
    ['100.64.0.1', true],
    ['127.0.0.1', true],
    ['169.254.169.254', true],
    ['::1', true],
    ['fe80::1', true],
    ['fec0::1', true],
    ['::ffff:0:a00:1', true], // IPv4-translated 10.0.0.1
    ['100::1', true],
    ['::ffff:10.0.0.1', true],
    ['::7f00:1', true],
    ['::127.0.0.1', true],
    ['::a00:1', true],
    ['64:ff9b::a9fe:a9fe', true],
    ['64:ff9b:1::a00:1', true],
    ['2002:7f00:1::1', true],
    ['2002:a9fe:a9fe::', true],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', true],
    ['not an address', true],
    ['8.8.8.8', false],
    ['2001:4860:4860::8888', false],
    ['2001:1::1', false],
    ['2003::1', false],
    ['64:ff9b:2::1', false],
  ])('%s is unreachable: %s', (address, unreachable) => {
    expect(isUnreachableAddress(address)).toBe(unreachable);
  });
});
