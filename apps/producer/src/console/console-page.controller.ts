import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';

/** The page's files, next to this module (nest build copies them into dist, see nest-cli.json). */
const read = (name: string) => readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');
/** Everything the page loads comes from this app: no inline script or style, no other origin. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The delivery console: a static page (no token needed to load it) that asks for an
 * API token and calls the console API with it.
 */
@ApiExcludeController()
@Controller('console')
export class ConsolePageController {
  private readonly html = read('console.html');
  private readonly js = read('console.js');
  private readonly css = read('console.css');

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('cache-control', 'no-cache')
  page(): string {
    return this.html;
  }

  @Get('console.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  script(): string {
    return this.js;
  }

  @Get('console.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  style(): string {
    return this.css;
  }
}
