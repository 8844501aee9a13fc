// sortable.tsx - drag-and-drop card order with dnd-kit, loaded in its own chunk when
// the browser is first idle after the cards are drawn (Dashboard.tsx).
import {
  DndContext, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent,
} from '@dnd-kit/core';
import { SortableContext, rectSortingStrategy, sortableKeyboardCoordinates, useSortable } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { Card } from './cards';
import type { Thresholds } from './format';

function SortableCard({ m, th }: { m: any; th: Required<Thresholds> }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: m.server_id });
  const style = { transform: CSS.Transform.toString(transform), transition, opacity: isDragging ? 0.6 : 1 };
  return <Card m={m} th={th} sort={{ ref: setNodeRef, style, handle: { ...attributes, ...listeners } }} />;
}

export function SortableCards({ machines, th, onMove }: { machines: any[]; th: Required<Thresholds>; onMove: (a: string, b: string) => void }) {
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const end = (e: DragEndEvent) => { if (e.over && e.active.id !== e.over.id) onMove(String(e.active.id), String(e.over.id)); };
  return (
    <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={end}>
      <SortableContext items={machines.map((m) => m.server_id)} strategy={rectSortingStrategy}>
        <ul className="cards">{machines.map((m) => <SortableCard key={m.server_id} m={m} th={th} />)}</ul>
      </SortableContext>
    </DndContext>
  );
}

