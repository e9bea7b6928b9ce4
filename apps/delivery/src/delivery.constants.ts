/** The logical pattern of the deliveries topic for the batch transport. */
export const DELIVERY_JOBS = 'delivery-jobs';
