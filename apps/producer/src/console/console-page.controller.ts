import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { pageCsp, pageFile } from '../web/page-assets.js';

const read = (name: string) => pageFile(import.meta.url, name);
/** The console is never framed. */
const CSP = pageCsp();

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
