import { main } from '../../gateway/src/main';

void main('worker');
