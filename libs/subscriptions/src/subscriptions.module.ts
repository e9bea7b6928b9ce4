import { Module } from '@nestjs/common';
import { SubscriptionRegistry } from './subscription-registry.js';
import { SubscriptionStore } from './subscription.store.js';

@Module({
  providers: [SubscriptionRegistry, SubscriptionStore],
  exports: [SubscriptionRegistry, SubscriptionStore],
})
export class SubscriptionsModule {}
