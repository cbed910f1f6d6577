export const neon = ['#22d3ee', '#e879f9', '#fbbf24', '#a3e635', '#fb7185', '#818cf8', '#2dd4bf', '#f472b6', '#facc15', '#60a5fa'];
export const alpha = (hex: string, a: number) => hex + Math.round(a * 255).toString(16).padStart(2, '0');
