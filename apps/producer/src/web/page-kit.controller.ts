import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { pageFile } from './page-assets.js';

/** The browser module the console and the portal share (`/web/kit.js`). */
@ApiExcludeController()
@Controller('web')
export class PageKitController {
  private readonly kit = pageFile(import.meta.url, 'kit.js');

  @Get('kit.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @Header('x-content-type-options', 'nosniff')
  script(): string {
    return this.kit;
  }
}
