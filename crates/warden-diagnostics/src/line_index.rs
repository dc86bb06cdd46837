//! Byte offset ↔ line/column conversion, used only at the edges.

/// A 1-based line and column; the column counts characters (Unicode scalar values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// The start offsets of every line in one text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    /// Per line, whether it is ASCII: its columns are then byte counts, so
    /// a position on it is found without counting characters from the
    /// line's start (thousands of positions on one long line would
    /// otherwise cost its length each).
    ascii: Vec<bool>,
    /// On the other lines, every [`CHECKPOINT_BYTES`] or so: a byte offset
    /// and its character and UTF-16 columns, so a position is counted from
    /// the checkpoint before it, not from the line's start.
    checkpoints: Vec<Checkpoint>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Checkpoint {
    offset: u32,
    column: u32,
    utf16: u32,
}

const CHECKPOINT_BYTES: usize = 256;

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        let ascii = line_starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let end = line_starts
                    .get(i + 1)
                    .map_or(text.len(), |&next| next as usize);
                text.as_bytes()[start as usize..end].is_ascii()
            })
            .collect::<Vec<bool>>();
        let mut checkpoints = Vec::new();
        for (i, &start) in line_starts.iter().enumerate() {
            if ascii[i] {
                continue;
            }
            let end = line_starts
                .get(i + 1)
                .map_or(text.len(), |&next| next as usize);
            let (mut column, mut utf16, mut last) = (0u32, 0u32, start as usize);
            checkpoints.push(Checkpoint {
                offset: start,
                column,
                utf16,
            });
            for (at, c) in text[start as usize..end].char_indices() {
                let at = start as usize + at;
                if at - last >= CHECKPOINT_BYTES {
                    checkpoints.push(Checkpoint {
                        offset: at as u32,
                        column,
                        utf16,
                    });
                    last = at;
                }
                column += 1;
                utf16 += c.len_utf16() as u32;
            }
        }
        LineIndex {
            line_starts,
            ascii,
            checkpoints,
        }
    }

    /// The byte range of the line holding `offset` in `text`, its line
    /// break left out.
    pub fn line_bounds(&self, text: &str, offset: usize) -> std::ops::Range<usize> {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        self.line_range(text, line).unwrap_or(offset..offset)
    }

    /// The byte range of 0-based `line` in `text`, its line break left out.
    pub fn line_range(&self, text: &str, line: usize) -> Option<std::ops::Range<usize>> {
        let start = *self.line_starts.get(line)? as usize;
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(text.len(), |&next| next as usize - 1);
        Some(start..end.max(start))
    }

    /// The checkpoint at or before `offset` on a line that is not ASCII.
    fn checkpoint(&self, offset: usize) -> Checkpoint {
        let at = self
            .checkpoints
            .partition_point(|c| c.offset as usize <= offset);
        self.checkpoints[at.saturating_sub(1)]
    }

    /// The 1-based line and character column of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let column = if self.ascii[line] {
            offset - start
        } else {
            let from = self.checkpoint(offset);
            text.get(from.offset as usize..offset)
                .map_or(offset - start, |s| from.column as usize + s.chars().count())
        };
        LineCol {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }
}

impl LineIndex {
    /// The 0-based line and UTF-16 column of a byte offset: an LSP position.
    pub fn utf16_position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let column: usize = if self.ascii[line] {
            offset - start
        } else {
            let from = self.checkpoint(offset);
            from.utf16 as usize
                + text[from.offset as usize..offset]
                    .chars()
                    .map(char::len_utf16)
                    .sum::<usize>()
        };
        (line as u32, column as u32)
    }

    /// The byte offset of a 0-based line and UTF-16 column; past the end of
    /// a line it is the line's end, past the last line the text's end.
    pub fn utf16_offset(&self, text: &str, line: u32, column: u32) -> usize {
        let Some(&start) = self.line_starts.get(line as usize) else {
            return text.len();
        };
        let start = start as usize;
        let end = self
            .line_starts
            .get(line as usize + 1)
            .map_or(text.len(), |&next| next as usize - 1);
        let mut units = 0;
        for (i, c) in text[start..end].char_indices() {
            if units >= column as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }
}

/// LSP positions of offsets asked in increasing order, each counted on
/// from the one before: a whole file's tokens convert in one pass, however
/// long its lines (asking each from its line's start is quadratic in a
/// line's length). An offset before the last one is counted afresh.
pub struct Utf16Cursor<'a> {
    index: &'a LineIndex,
    text: &'a str,
    offset: usize,
    line: u32,
    column: u32,
}

impl<'a> Utf16Cursor<'a> {
    pub fn new(index: &'a LineIndex, text: &'a str) -> Self {
        Utf16Cursor {
            index,
            text,
            offset: 0,
            line: 0,
            column: 0,
        }
    }

    /// The 0-based line and UTF-16 column of `offset`, as
    /// [`LineIndex::utf16_position`] gives it.
    pub fn position(&mut self, offset: usize) -> (u32, u32) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        if offset < self.offset {
            (self.line, self.column) = self.index.utf16_position(self.text, offset);
            self.offset = offset;
            return (self.line, self.column);
        }
        let line = self
            .index
            .line_starts
            .partition_point(|&s| s as usize <= offset)
            - 1;
        if line as u32 != self.line {
            self.line = line as u32;
            self.column = 0;
            self.offset = self.index.line_starts[line] as usize;
        }
        let units: usize = self.text[self.offset..offset]
            .chars()
            .map(char::len_utf16)
            .sum();
        self.column += units as u32;
        self.offset = offset;
        (self.line, self.column)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_agrees_with_each_position_counted_afresh() {
        let text = "a😀b\n\ncé😀 x\n😀";
        let index = LineIndex::new(text);
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        let mut cursor = Utf16Cursor::new(&index, text);
        for &offset in boundaries.iter().chain(boundaries.iter().rev()) {
            assert_eq!(
                cursor.position(offset),
                index.utf16_position(text, offset),
                "at {offset}"
            );
        }
    }

    #[test]
    fn positions_on_long_lines_agree_with_counting_from_the_line_start() {
        // Long lines of mixed width, past several checkpoints, and an ASCII one.
        let line = "aé😀 \\q".repeat(300);
        let text = format!("{line}\nplain ascii line\n{line}x");
        let index = LineIndex::new(&text);
        for offset in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[start..offset];
            let line = text[..offset].matches('\n').count() as u32;
            assert_eq!(
                index.utf16_position(&text, offset),
                (
                    line,
                    before.chars().map(char::len_utf16).sum::<usize>() as u32
                ),
                "at {offset}"
            );
            assert_eq!(
                index.line_col(&text, offset),
                LineCol {
                    line: line + 1,
                    column: before.chars().count() as u32 + 1
                },
                "at {offset}"
            );
        }
    }

    #[test]
    fn lines_and_columns_are_one_based() {
        let text = "ab\ncé\nx";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(index.line_col(text, 3), LineCol { line: 2, column: 1 });
        assert_eq!(index.line_col(text, 7), LineCol { line: 3, column: 1 });
        assert_eq!(index.line_col(text, 6), LineCol { line: 2, column: 3 });
    }

    #[test]
    fn utf16_positions_count_surrogate_pairs() {
        // `é` is one UTF-16 unit (two bytes); `𝒳` is two units (four bytes).
        let text = "aé𝒳b\nz";
        let index = LineIndex::new(text);
        let b = text.find('b').unwrap();
        assert_eq!(index.utf16_position(text, b), (0, 4));
        assert_eq!(index.utf16_offset(text, 0, 4), b);
        assert_eq!(index.utf16_offset(text, 0, 99), text.find('\n').unwrap());
        assert_eq!(index.utf16_position(text, text.len()), (1, 1));
        assert_eq!(index.utf16_offset(text, 7, 0), text.len());
    }
}
