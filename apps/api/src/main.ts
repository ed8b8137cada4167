import { main } from '../../gateway/src/main';

void main({ ROLE: 'api' });
