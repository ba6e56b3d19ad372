/** Entry of the browser twin. */
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ComparePage } from './ComparePage.tsx';
import { PlantPage } from './PlantPage.tsx';
// Noto Sans SC split by unicode-range (the browser fetches only the slices holding the characters
// a page shows): Chinese renders on a machine without a CJK font of its own
import '@fontsource/noto-sans-sc/400.css';
// and its Latin in bold (headings, the 3D labels' first line); Chinese bold is drawn from the regular
import '@fontsource/noto-sans-sc/latin-700.css';
import './styles.css';

const root = document.getElementById('root');
// `?mode=compare`: two lines side by side (no host needed); `?mode=plant`: the plant view that
// `twinline plant up` serves; otherwise the twin
const mode = new URLSearchParams(location.search).get('mode');
if (root !== null) createRoot(root).render(mode === 'compare' ? <ComparePage /> : mode === 'plant' ? <PlantPage /> : <App />);
