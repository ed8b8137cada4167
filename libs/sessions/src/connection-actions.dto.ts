import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class QrView {
  @ApiProperty({ description: 'The string to render as a QR code and scan with WhatsApp' }) qr: string;
  @ApiProperty({ description: 'When this code stops being valid (a new one is emitted as connection.qr)' }) expiresAt: string;
}

export class PairingCodeDto {
  @ApiProperty({ example: '5534999999999', description: 'The phone number of the account, with country code, digits only' })
  @Matches(/^\+?\d{8,15}$/, { message: 'phoneNumber must be 8 to 15 digits with the country code' })
  phoneNumber: string;
}

export class PairingCodeView {
  @ApiProperty({ example: 'ABCD1234', description: 'Enter it in WhatsApp > Linked devices > Link with phone number' }) code: string;
}
