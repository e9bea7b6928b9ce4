import 'reflect-metadata';
import { loadConfig } from '@app/config';
import { runMain } from '@app/runtime';
import { startDeliveryApp } from './delivery.app.js';

runMain('delivery', () => startDeliveryApp(loadConfig()));
