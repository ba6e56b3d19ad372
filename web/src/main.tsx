/** Entry of the browser twin. */
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ComparePage } from './ComparePage.tsx';
import './styles.css';

const root = document.getElementById('root');
// `?mode=compare`: two lines side by side (no host needed); otherwise the twin
if (root !== null) createRoot(root).render(new URLSearchParams(location.search).get('mode') === 'compare' ? <ComparePage /> : <App />);
