//! Buffers in and out of the device, and the error scope every pass runs in.

use wgpu::util::DeviceExt;

use crate::Gpu;

/// Bytes of a value slice, for uploads.
pub(crate) fn bytes<T: bytemuck::NoUninit>(values: &[T]) -> &[u8] {
    bytemuck::cast_slice(values)
}

impl Gpu {
    /// A storage buffer holding `data` (at least 16 bytes: an empty binding is invalid).
    pub(crate) fn storage(&self, label: &str, data: &[u8]) -> wgpu::Buffer {
        let usage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let mut padded = [0u8; 16];
        let contents = if data.len() < padded.len() {
            padded[..data.len()].copy_from_slice(data);
            &padded[..]
        } else {
            data
        };
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            })
    }

    /// A zeroed storage buffer of `size` bytes (rounded up to 16).
    pub(crate) fn zeroed(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16).next_multiple_of(4),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    /// A uniform buffer of four `u32`s.
    pub(crate) fn uniform(&self, values: [u32; 4]) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: bytes(&values),
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// A bind group for `pipeline`'s group 0 with each `(binding, buffer)`.
    pub(crate) fn bind(
        &self,
        pipeline: &wgpu::ComputePipeline,
        entries: &[(u32, &wgpu::Buffer)],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'_>> = entries
            .iter()
            .map(|&(binding, buffer)| wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        })
    }

    /// Submits `encoder` with a copy of the first `size` bytes of `source` appended, and
    /// returns those bytes once the GPU is done; `None` on any error the device reports on the
    /// way (validation, out of memory, a failed mapping, a lost device).
    pub(crate) async fn submit_and_read(
        &self,
        mut encoder: wgpu::CommandEncoder,
        source: &wgpu::Buffer,
        size: u64,
    ) -> Option<Vec<u8>> {
        let size = size.max(4).next_multiple_of(4);
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read back"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_buffer_to_buffer(source, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        let (send, receive) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = send.send(result.is_ok());
        });
        self.wait();
        if !receive.await.unwrap_or(false) {
            return None;
        }
        let out = staging.get_mapped_range(..).ok()?.to_vec();
        staging.unmap();
        Some(out)
    }

    /// Natively: blocks until the device has done all submitted work and run its callbacks.
    /// In the browser the event loop does this.
    fn wait(&self) {
        #[cfg(not(target_arch = "wasm32"))]
        if self
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .is_err()
        {
            self.retire("the device did not finish its work");
        }
    }

    /// Runs `work` (which records and submits) inside validation and out-of-memory error
    /// scopes; `None` when either caught an error or `work` gave none.
    pub(crate) async fn scoped<T>(
        &self,
        work: impl std::future::Future<Output = Option<T>>,
    ) -> Option<T> {
        let memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = work.await;
        let invalid = validation.pop().await;
        let exhausted = memory.pop().await;
        if let Some(e) = invalid.or(exhausted) {
            self.retire(&e.to_string());
            return None;
        }
        out
    }
}
