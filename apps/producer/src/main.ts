import 'reflect-metadata';
import { loadConfig } from '@app/config';
import { runMain } from '@app/runtime';
import { startProducerApp } from './producer.app.js';

runMain('producer', () => startProducerApp(loadConfig()));
