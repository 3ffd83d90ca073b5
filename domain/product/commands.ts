import type { Money } from '../money';

export const PRODUCT_COMMAND_TYPES = [
  'CreateProduct',
  'UpdateProductDetails',
  'ChangePrice',
  'RestockProduct',
  'ReserveStock',
  'ReleaseReservation',
  'CommitReservation',
  'DiscontinueProduct',
] as const;

export type ProductCommandType = (typeof PRODUCT_COMMAND_TYPES)[number];

export interface CreateProduct {
  type: 'CreateProduct';
  productId: string;
  sku: string;
  name: string;
  /** May be empty. */
  description: string;
  category: string;
  price: Money;
  initialStock: number;
}

/** At least one of name, description, category. Absent may be undefined (JSON) or null (Avro). */
export interface UpdateProductDetails {
  type: 'UpdateProductDetails';
  productId: string;
  name?: string | null;
  description?: string | null;
  category?: string | null;
}

export interface ChangePrice {
  type: 'ChangePrice';
  productId: string;
  price: Money;
}

export interface RestockProduct {
  type: 'RestockProduct';
  productId: string;
  quantity: number;
}

export interface ReserveStock {
  type: 'ReserveStock';
  productId: string;
  orderId: string;
  quantity: number;
}

export interface ReleaseReservation {
  type: 'ReleaseReservation';
  productId: string;
  orderId: string;
}

export interface CommitReservation {
  type: 'CommitReservation';
  productId: string;
  orderId: string;
}

export interface DiscontinueProduct {
  type: 'DiscontinueProduct';
  productId: string;
}

export type ProductCommand =
  | CreateProduct
  | UpdateProductDetails
  | ChangePrice
  | RestockProduct
  | ReserveStock
  | ReleaseReservation
  | CommitReservation
  | DiscontinueProduct;
