import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import { pageCsp, pageFile } from '../web/page-assets.js';

const read = (name: string) => pageFile(import.meta.url, name);
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The customer portal: a static page (no token needed to load it) opened with a portal-session
 * link (`/portal#session=<token>`), which calls the management API with that session. Only the
 * origins of PORTAL_FRAME_ANCESTORS may show it in an iframe; PORTAL_THEME_FILE is its theme.css.
 */
@ApiExcludeController()
@Controller('portal')
export class PortalPageController {
  private readonly html: string;
  private readonly js = read('portal.js');
  private readonly css = read('portal.css');
  private readonly icon = read('icon.svg');
  private readonly theme: string;
  private readonly csp: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.html = read('portal.html').replaceAll('{{title}}', escapeHtml(config.portal.title));
    this.theme = config.portal.themeFile ? readFileSync(config.portal.themeFile, 'utf8') : '/* PORTAL_THEME_FILE: none */\n';
    this.csp = pageCsp(config.portal.frameAncestors);
  }

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  @Header('referrer-policy', 'no-referrer')
  @Header('x-content-type-options', 'nosniff')
  page(@Res({ passthrough: true }) res: Response): string {
    res.setHeader('content-security-policy', this.csp);
    return this.html;
  }

  @Get('portal.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @Header('x-content-type-options', 'nosniff')
  script(): string {
    return this.js;
  }

  @Get('portal.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @Header('x-content-type-options', 'nosniff')
  style(): string {
    return this.css;
  }

  @Get('icon.svg')
  @Header('content-type', 'image/svg+xml')
  @Header('cache-control', 'max-age=86400')
  @Header('x-content-type-options', 'nosniff')
  iconImage(): string {
    return this.icon;
  }

  @Get('theme.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @Header('x-content-type-options', 'nosniff')
  themeStyle(): string {
    return this.theme;
  }
}
