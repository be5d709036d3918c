<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AdvancedFields</name>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="28"/>
        <source>Advanced</source>
        <translation>高级</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="32"/>
        <source>custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="53"/>
        <source>official boundary</source>
        <translation>官方切换点</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="55"/>
        <source>The step at which the low-noise expert takes over from the high-noise one</source>
        <translation>低噪声专家从高噪声专家接手的步数</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="57"/>
        <source>Expert switch step</source>
        <translation>专家切换步</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="58"/>
        <source>Step caching (Turbo)</source>
        <translation>步缓存（Turbo）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="67"/>
        <source>Higher thresholds skip more steps: faster, and the video changes more</source>
        <translation>阈值越高跳过的步数越多：更快，但视频变化也更大</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="75"/>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="76"/>
        <source>on</source>
        <translation>开</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="77"/>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="84"/>
        <source>none</source>
        <translation>不预留</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="87"/>
        <source>Plan for less of the GPU&apos;s memory, leaving this share free for other programs. A job that runs out of GPU memory is retried once with 20 % kept free.</source>
        <translation>只按 GPU 显存的一部分来规划，把这一比例留给其他程序。显存不足的任务会自动预留 20% 空闲后重试一次。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="94"/>
        <source>all that help</source>
        <translation>全部可用</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="100"/>
        <source>threshold</source>
        <translation>阈值</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="103"/>
        <location filename="../../gui/widgets/advanced_fields.py" line="127"/>
        <source>Guidance (high-noise expert)</source>
        <translation>引导强度（高噪声专家）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="104"/>
        <source>Guidance (low-noise expert)</source>
        <translation>引导强度（低噪声专家）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="106"/>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="109"/>
        <source>Shift</source>
        <translation>偏移（shift）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="110"/>
        <source>Solver</source>
        <translation>求解器</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="112"/>
        <source>Speed</source>
        <translation>加速</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="113"/>
        <source>Offload model to CPU</source>
        <translation>模型卸载到 CPU</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="114"/>
        <source>bf16 weights</source>
        <translation>bf16 权重</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="115"/>
        <source>T5 on CPU</source>
        <translation>T5 在 CPU 上运行</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="116"/>
        <source>Keep GPU memory free</source>
        <translation>预留 GPU 显存</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="117"/>
        <source>GPUs</source>
        <translation>GPU 数量</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="127"/>
        <source>Guidance</source>
        <translation>引导强度</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/advanced_fields.py" line="146"/>
        <source>Reuse the model&apos;s output on steps where it barely changes (faster)</source>
        <translation>在模型输出几乎不变的步上复用上一步的结果（更快）</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <location filename="../../gui/app.py" line="176"/>
        <source>Wan22 Desktop is already open for this data folder.</source>
        <translation>Wan22 Desktop 已经在使用这个数据文件夹。</translation>
    </message>
</context>
<context>
    <name>FirstRunView</name>
    <message>
        <location filename="../../gui/views/first_run.py" line="56"/>
        <source>text or image to video, 5B, 720p</source>
        <translation>文本或图像生成视频，5B，720p</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="57"/>
        <source>text to video, 14B mixture of experts, 720p</source>
        <translation>文本生成视频，14B 混合专家模型，720p</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="58"/>
        <source>image to video, 14B mixture of experts, 720p</source>
        <translation>图像生成视频，14B 混合专家模型，720p</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="88"/>
        <source>Welcome to Wan22 Desktop</source>
        <translation>欢迎使用 Wan22 Desktop</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="96"/>
        <source>Checking this computer…</source>
        <translation>正在检测这台电脑…</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="105"/>
        <location filename="../../gui/views/first_run.py" line="500"/>
        <location filename="../../gui/views/first_run.py" line="516"/>
        <source>Run it</source>
        <translation>运行</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="122"/>
        <source>This computer</source>
        <translation>这台电脑</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="136"/>
        <source>Mirror endpoint (optional), e.g. https://hf-mirror.com</source>
        <translation>镜像地址（可选），例如 https://hf-mirror.com</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="142"/>
        <source>Download from:</source>
        <translation>下载来源：</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="155"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="164"/>
        <source>Try this prompt</source>
        <translation>试试这个提示词</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="166"/>
        <source>Your first video</source>
        <translation>你的第一个视频</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="172"/>
        <source>Skip</source>
        <translation>跳过</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="175"/>
        <source>You can open this guide again from Models.</source>
        <translation>之后可以在“模型”页面重新打开本向导。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="201"/>
        <source>This guide shows what this computer can run and downloads more models for you.</source>
        <translation>本向导会显示这台电脑能运行哪些模型，并为你下载更多模型。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="204"/>
        <source>No video model is installed yet. This guide shows what this computer can run and downloads a model for you.</source>
        <translation>尚未安装任何视频模型。本向导会显示这台电脑能运行哪些模型，并为你下载模型。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="217"/>
        <location filename="../../gui/views/first_run.py" line="364"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="279"/>
        <source>GPU %1: %2, %3 GiB of video memory</source>
        <translation>GPU %1：%2，显存 %3 GiB</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="293"/>
        <source>PyTorch cannot use the NVIDIA GPU yet: only tiny test models run until its CUDA build is installed (below).</source>
        <translation>PyTorch 还无法使用 NVIDIA GPU：在安装其 CUDA 版本（见下方）之前，只能运行微型测试模型。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="298"/>
        <source>No NVIDIA GPU found: only tiny test models run here.</source>
        <translation>未找到 NVIDIA GPU：这台电脑只能运行微型测试模型。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="300"/>
        <source>Memory: %1 GiB (%2 GiB free), %3 CPU cores</source>
        <translation>内存：%1 GiB（可用 %2 GiB），%3 个 CPU 核心</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="310"/>
        <source>an NVIDIA GPU</source>
        <translation>一块 NVIDIA GPU</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="313"/>
        <source>The NVIDIA driver sees %1, but the installed PyTorch is a CPU-only build. This command installs the matching CUDA build into the app&apos;s environment (about 3 GB); restart the app afterwards.</source>
        <translation>NVIDIA 驱动检测到 %1，但已安装的 PyTorch 是仅支持 CPU 的版本。下面的命令会把匹配的 CUDA 版本安装到本应用的环境中（约 3 GB），完成后请重启应用。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="329"/>
        <source>Models folder: %1</source>
        <translation>模型文件夹：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="333"/>
        <source>Models folder: %1 — %2 free</source>
        <translation>模型文件夹：%1 — 可用空间 %2</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="340"/>
        <source>%1 (%2) — %3</source>
        <translation>%1（%2）— %3</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="348"/>
        <source>✓ Fits this computer: %1</source>
        <translation>✓ 可在这台电脑上运行：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="350"/>
        <source>✗ Does not fit: %1</source>
        <translation>✗ 无法运行：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="355"/>
        <source>⚠ Not enough free disk space for %1 in the models folder.</source>
        <translation>⚠ 模型文件夹所在磁盘的可用空间不足 %1。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="360"/>
        <source>Installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="369"/>
        <source>%1 is ready. Try this prompt:</source>
        <translation>%1 已就绪。试试这个提示词：</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="405"/>
        <source>The mirror endpoint must be an http(s) URL</source>
        <translation>镜像地址必须是 http(s) 网址</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="406"/>
        <source>for example https://hf-mirror.com, or leave it empty</source>
        <translation>例如 https://hf-mirror.com，或留空</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="413"/>
        <source>Downloading…</source>
        <translation>正在下载…</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="415"/>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="436"/>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="443"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="444"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="445"/>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="448"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="452"/>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="480"/>
        <source>Installing…</source>
        <translation>正在安装…</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="503"/>
        <source>Finished. Restart Wan22 Desktop to use the GPU.</source>
        <translation>已完成。请重启 Wan22 Desktop 以使用 GPU。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="507"/>
        <source>The command failed (exit code %1); the output above says why.</source>
        <translation>命令失败（退出码 %1），原因见上方输出。</translation>
    </message>
    <message>
        <location filename="../../gui/views/first_run.py" line="514"/>
        <source>The command could not start.</source>
        <translation>命令无法启动。</translation>
    </message>
</context>
<context>
    <name>GenerateView</name>
    <message>
        <location filename="../../gui/views/generate.py" line="572"/>
        <location filename="../../gui/views/generate.py" line="579"/>
        <source>Settings taken from %1 (%2)</source>
        <translation>已从 %1（%2）读取设置</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="575"/>
        <source>not used: %1</source>
        <translation>未使用：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="98"/>
        <source>720p landscape</source>
        <translation>720p 横屏</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="99"/>
        <source>720p portrait</source>
        <translation>720p 竖屏</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="100"/>
        <source>480p landscape</source>
        <translation>480p 横屏</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="101"/>
        <source>480p portrait</source>
        <translation>480p 竖屏</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="200"/>
        <source>Auto (let the planner choose)</source>
        <translation>自动（由规划器选择）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="201"/>
        <source>Text → Video (A14B)</source>
        <translation>文生视频（A14B）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="202"/>
        <source>Image → Video (A14B)</source>
        <translation>图生视频（A14B）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="203"/>
        <source>Text/Image → Video (5B)</source>
        <translation>文/图生视频（5B）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="213"/>
        <source>Describe the video: subject, action, scene, style…</source>
        <translation>描述视频：主体、动作、场景、风格……</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="221"/>
        <source>Auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="223"/>
        <source>Language of the inserted phrases (Auto: the prompt&apos;s language)</source>
        <translation>插入短语的语言（自动：跟随提示词的语言）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="229"/>
        <source>Use my own negative prompt</source>
        <translation>使用自定义负向提示词</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="234"/>
        <source>Negative prompt (official default)</source>
        <translation>负向提示词（官方默认）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="255"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="260"/>
        <source> frames</source>
        <translation> 帧</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="664"/>
        <source>Draft (fast preview)</source>
        <translation>草稿（快速预览）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="665"/>
        <source>Standard</source>
        <translation>标准</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="666"/>
        <source>Official (best)</source>
        <translation>官方（最佳）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="288"/>
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="296"/>
        <source>Roll</source>
        <translation>掷骰</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="297"/>
        <source>Roll a new seed</source>
        <translation>随机生成一个新种子</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="303"/>
        <source>Extend the prompt with an LLM</source>
        <translation>用大模型扩写提示词</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="307"/>
        <source>Local Qwen</source>
        <translation>本地 Qwen</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="308"/>
        <source>DashScope (online)</source>
        <translation>DashScope（在线）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="311"/>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="312"/>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="324"/>
        <source>consecutive seeds</source>
        <translation>连续种子</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="325"/>
        <source>random seeds</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="328"/>
        <source>videos with</source>
        <translation>个视频，使用</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="240"/>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="105"/>
        <source>Fast: Lightning 4 steps (text to video, A14B)</source>
        <translation>快速：Lightning 4 步（文生视频，A14B）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="106"/>
        <source>Fast: Lightning 4 steps (image to video, A14B)</source>
        <translation>快速：Lightning 4 步（图生视频，A14B）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="242"/>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="243"/>
        <source>Style</source>
        <translation>风格</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="267"/>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="268"/>
        <source>Duration</source>
        <translation>时长</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="278"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="280"/>
        <source>Download the preset&apos;s LoRA files (Models view)</source>
        <translation>下载该预设的 LoRA 文件（模型视图）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="332"/>
        <source>Quality</source>
        <translation>质量</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="334"/>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="335"/>
        <source>Prompt extension</source>
        <translation>提示词扩写</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="336"/>
        <source>Batch</source>
        <translation>批量</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="345"/>
        <source>LoRAs</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="354"/>
        <source>Start image</source>
        <translation>首帧图像</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="370"/>
        <source>Generate now</source>
        <translation>立即生成</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="372"/>
        <source>Put this job at the front of the queue</source>
        <translation>把这个任务放到队列最前面</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="376"/>
        <source>Save changes</source>
        <translation>保存修改</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="378"/>
        <source>Cancel editing</source>
        <translation>取消编辑</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="633"/>
        <source>at %1 fps</source>
        <translation>（%1 fps）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="636"/>
        <source>Start image (required)</source>
        <translation>首帧图像（必需）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="638"/>
        <source>Start image (optional)</source>
        <translation>首帧图像（可选）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="640"/>
        <source>Start image (not used by this task)</source>
        <translation>首帧图像（此任务不使用）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="686"/>
        <source>%1 steps, guidance %2, shift %3, solver %4; LoRAs: %5</source>
        <translation>%1 步，引导 %2，偏移 %3，求解器 %4；LoRA：%5</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="695"/>
        <source>; first %1 step(s): guidance %2, no LoRA</source>
        <translation>；前 %1 步：引导 %2，不用 LoRA</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="847"/>
        <source>Output: %1×%2 (%3)</source>
        <translation>输出：%1×%2（%3）</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="865"/>
        <source>Downloading %1… (progress in the Models view). If it stops, Download resumes it.</source>
        <translation>正在下载 %1…（进度见模型视图）。如果下载中断，点击“下载”可继续。</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="872"/>
        <source>This Fast preset needs LoRA files that are not downloaded yet (%1). Queueing waits until they are there, or choose another quality.</source>
        <translation>此快速预设需要尚未下载的 LoRA 文件（%1）。下载完成后才能加入队列，或选择其他质量。</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="918"/>
        <source>Add to queue</source>
        <translation>加入队列</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="918"/>
        <source>Add %1 to queue</source>
        <translation>加入队列（%1 个）</translation>
    </message>
    <message numerus="yes">
        <location filename="../../gui/views/generate.py" line="942"/>
        <source>Queued %n job(s)</source>
        <translation>
            <numerusform>已加入 %n 个任务</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="960"/>
        <source>Job %1 updated</source>
        <translation>任务 %1 已更新</translation>
    </message>
    <message>
        <location filename="../../gui/views/generate.py" line="970"/>
        <source>Editing queued job %1</source>
        <translation>正在编辑排队中的任务 %1</translation>
    </message>
</context>
<context>
    <name>HistoryDetail</name>
    <message>
        <location filename="../../gui/history_actions.py" line="135"/>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="151"/>
        <source>Extended prompt</source>
        <translation>扩展后的提示词</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="139"/>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="141"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="142"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="143"/>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="144"/>
        <source>Hint</source>
        <translation>建议</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="145"/>
        <source>Finished</source>
        <translation>完成时间</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="154"/>
        <source>Video</source>
        <translation>视频</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="156"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="157"/>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="158"/>
        <source>Frames</source>
        <translation>帧数</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="159"/>
        <source>FPS</source>
        <translation>帧率</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="160"/>
        <source>Duration (s)</source>
        <translation>时长（秒）</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="161"/>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="162"/>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="163"/>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="164"/>
        <source>Peak memory</source>
        <translation>显存峰值</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="165"/>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="166"/>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="169"/>
        <source>Timings (s)</source>
        <translation>耗时（秒）</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="171"/>
        <source>Parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="177"/>
        <source>LoRAs</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="181"/>
        <source>Plan</source>
        <translation>运行方案</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="189"/>
        <source>Why</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="193"/>
        <source>Warnings</source>
        <translation>警告</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="291"/>
        <source>How it was made</source>
        <translation>生成过程</translation>
    </message>
</context>
<context>
    <name>HistoryModel</name>
    <message>
        <location filename="../../gui/history_model.py" line="43"/>
        <source>(no prompt)</source>
        <translation>（无提示词）</translation>
    </message>
    <message>
        <location filename="../../gui/history_model.py" line="213"/>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../gui/history_model.py" line="214"/>
        <source>Task</source>
        <translation>任务类型</translation>
    </message>
    <message>
        <location filename="../../gui/history_model.py" line="215"/>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../gui/history_model.py" line="216"/>
        <source>Frames</source>
        <translation>帧数</translation>
    </message>
    <message>
        <location filename="../../gui/history_model.py" line="217"/>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../gui/history_model.py" line="218"/>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <location filename="../../gui/history_model.py" line="219"/>
        <source>★</source>
        <translation>★</translation>
    </message>
    <message>
        <location filename="../../gui/history_model.py" line="220"/>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
</context>
<context>
    <name>HistoryView</name>
    <message>
        <location filename="../../gui/views/history.py" line="117"/>
        <source>Search prompts…</source>
        <translation>搜索提示词…</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="121"/>
        <source>All tasks</source>
        <translation>全部任务类型</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="126"/>
        <source>Finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="127"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="128"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="129"/>
        <source>Interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="134"/>
        <source>Any time</source>
        <translation>全部时间</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="135"/>
        <source>Last 24 hours</source>
        <translation>最近 24 小时</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="136"/>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="137"/>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="141"/>
        <source>Favourites</source>
        <translation>收藏</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="143"/>
        <source>Tag</source>
        <translation>标签</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="151"/>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="153"/>
        <source>List</source>
        <translation>列表</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="235"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="237"/>
        <source>Re-run</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="239"/>
        <source>Queue the same request with the same seed</source>
        <translation>用相同的参数和种子再次加入队列</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="242"/>
        <source>Remix</source>
        <translation>换种子重做</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="244"/>
        <source>Queue the same request with a new seed</source>
        <translation>用相同的参数和新的种子加入队列</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="247"/>
        <source>Continue from last frame</source>
        <translation>从最后一帧继续</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="249"/>
        <source>Start a new image-to-video job from the last frame</source>
        <translation>以最后一帧为图像，新建图生视频任务</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="251"/>
        <source>Edit in Generate</source>
        <translation>在生成页编辑</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="252"/>
        <source>Favourite</source>
        <translation>收藏</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="255"/>
        <source>Copy command</source>
        <translation>复制命令</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="257"/>
        <source>Copy a wan22 generate command line</source>
        <translation>复制一条 wan22 generate 命令行</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="259"/>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="260"/>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="262"/>
        <source>Tags, comma separated (Enter saves)</source>
        <translation>标签，用逗号分隔（回车保存）</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="264"/>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message numerus="yes">
        <location filename="../../gui/views/history.py" line="363"/>
        <source>%n result(s)</source>
        <translation>
            <numerusform>%n 个结果</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="430"/>
        <source>Select a video to see its details.</source>
        <translation>选择一个视频以查看详情。</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="482"/>
        <source>the stored request of this row cannot be read</source>
        <translation>无法读取此条目保存的请求</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="483"/>
        <source>the details are in the log file</source>
        <translation>详情见日志文件</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="496"/>
        <source>The video file is missing</source>
        <translation>视频文件不存在</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="500"/>
        <source>if another machine rendered it, mount the shared outputs folder here or add a path mapping in Settings → Folders</source>
        <translation>如果是另一台机器渲染的，请在本机挂载共享输出文件夹，或在“设置 → 文件夹”中添加路径映射</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="536"/>
        <source>Queued job #%1</source>
        <translation>已加入队列：任务 #%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="569"/>
        <source>Delete from history</source>
        <translation>从历史中删除</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="570"/>
        <source>Delete this video from the history?</source>
        <translation>要从历史中删除这个视频吗？</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="574"/>
        <source>Also delete the video and thumbnail files</source>
        <translation>同时删除视频和缩略图文件</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="594"/>
        <source>Deleted; files outside the outputs folder were kept</source>
        <translation>已删除；输出文件夹之外的文件已保留</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="598"/>
        <source>Deleted from the history</source>
        <translation>已从历史中删除</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="614"/>
        <source>The folder no longer exists</source>
        <translation>文件夹已不存在</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="635"/>
        <source>Command copied; these settings have no flag: %1</source>
        <translation>命令已复制；以下设置没有对应的参数：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/history.py" line="640"/>
        <source>Command copied to the clipboard</source>
        <translation>命令已复制到剪贴板</translation>
    </message>
</context>
<context>
    <name>HowMade</name>
    <message>
        <location filename="../../gui/history_actions.py" line="204"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="205"/>
        <source>Placement</source>
        <translation>运行位置</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="206"/>
        <source>Memory savers</source>
        <translation>省显存选项</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="207"/>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="208"/>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="209"/>
        <source>Steps by expert</source>
        <translation>各专家的步</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="210"/>
        <source>Phase {n}</source>
        <translation>阶段 {n}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="211"/>
        <source>Turbo (step caching)</source>
        <translation>Turbo（步缓存）</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="212"/>
        <source>Guidance</source>
        <translation>引导强度</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="213"/>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="214"/>
        <source>Attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="215"/>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="216"/>
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="217"/>
        <source>Peak memory</source>
        <translation>显存峰值</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="218"/>
        <source>Planned memory</source>
        <translation>预估内存</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="219"/>
        <source>not recorded</source>
        <translation>未记录</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="220"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="221"/>
        <source>{n} steps</source>
        <translation>{n} 步</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="222"/>
        <source>solver {solver}</source>
        <translation>求解器 {solver}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="223"/>
        <source>shift {shift}</source>
        <translation>偏移 {shift}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="224"/>
        <source>high-noise {steps}</source>
        <translation>高噪声 {steps}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="225"/>
        <source>low-noise {steps}</source>
        <translation>低噪声 {steps}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="226"/>
        <source>one model {steps}</source>
        <translation>单一模型 {steps}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="227"/>
        <source>{expert} {steps}</source>
        <translation>{expert} {steps}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="228"/>
        <source>steps {steps}</source>
        <translation>第 {steps} 步</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="229"/>
        <source>high-noise</source>
        <translation>高噪声</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="230"/>
        <source>low-noise</source>
        <translation>低噪声</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="231"/>
        <source>one model</source>
        <translation>单一模型</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="232"/>
        <source>guidance {g}</source>
        <translation>引导 {g}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="233"/>
        <source>LoRAs on</source>
        <translation>LoRA 开</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="234"/>
        <source>LoRAs off</source>
        <translation>LoRA 关</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="235"/>
        <source>skipped {n} of {total} steps: {steps}</source>
        <translation>跳过了 {total} 步中的 {n} 步：{steps}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="236"/>
        <source>on (threshold {t}), no step skipped</source>
        <translation>开（阈值 {t}），未跳过任何步</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="237"/>
        <source>high-noise {g}</source>
        <translation>高噪声 {g}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="238"/>
        <source>low-noise {g}</source>
        <translation>低噪声 {g}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="239"/>
        <source>warm-up: {n} steps at {g}</source>
        <translation>预热：{n} 步，引导 {g}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="240"/>
        <source>warm-up: {n} steps</source>
        <translation>预热：{n} 步</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="241"/>
        <source>high-noise {s}</source>
        <translation>高噪声 {s}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="242"/>
        <source>low-noise {s}</source>
        <translation>低噪声 {s}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="243"/>
        <source>strength {s}</source>
        <translation>强度 {s}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="244"/>
        <source>fell back to PyTorch SDPA: {why}</source>
        <translation>已改用 PyTorch SDPA：{why}</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="245"/>
        <source>loading {s} s</source>
        <translation>加载 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="246"/>
        <source>prompt extension {s} s</source>
        <translation>提示词扩展 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="247"/>
        <source>text encoding {s} s</source>
        <translation>文本编码 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="248"/>
        <source>sampling {s} s</source>
        <translation>采样 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="249"/>
        <source>decoding {s} s</source>
        <translation>解码 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="250"/>
        <source>saving {s} s</source>
        <translation>保存 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="251"/>
        <source>total {s} s</source>
        <translation>总计 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="252"/>
        <source>{phase} {s} s</source>
        <translation>{phase} {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="253"/>
        <source>{s} s per step</source>
        <translation>每步 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/history_actions.py" line="254"/>
        <source>about {vram} GiB VRAM per GPU, {ram} GiB RAM</source>
        <translation>每个 GPU 约 {vram} GiB 显存，内存 {ram} GiB</translation>
    </message>
</context>
<context>
    <name>ImageDropZone</name>
    <message>
        <location filename="../../gui/widgets/image_drop.py" line="52"/>
        <source>Choose image…</source>
        <translation>选择图像…</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/image_drop.py" line="53"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/image_drop.py" line="84"/>
        <source>Drop a start image here</source>
        <translation>把首帧图像拖到这里</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/image_drop.py" line="97"/>
        <source>Cannot read %1</source>
        <translation>无法读取 %1</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/image_drop.py" line="106"/>
        <source>Choose a start image</source>
        <translation>选择首帧图像</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/image_drop.py" line="108"/>
        <source>Images (%1)</source>
        <translation>图像（%1）</translation>
    </message>
</context>
<context>
    <name>JobTableModel</name>
    <message>
        <location filename="../../gui/queue_model.py" line="43"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="44"/>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="45"/>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="46"/>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="47"/>
        <source>Phase</source>
        <translation>阶段</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="48"/>
        <source>Step</source>
        <translation>步</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="49"/>
        <source>ETA</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="50"/>
        <source>Done at</source>
        <translation>预计完成</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="51"/>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="54"/>
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="55"/>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="56"/>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="57"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="58"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="59"/>
        <source>Interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="65"/>
        <source>loading model</source>
        <translation>加载模型</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="66"/>
        <source>extending prompt</source>
        <translation>扩写提示词</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="67"/>
        <source>encoding text</source>
        <translation>编码文本</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="68"/>
        <source>sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="69"/>
        <source>decoding</source>
        <translation>解码</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="70"/>
        <source>saving</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="196"/>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="206"/>
        <source>s</source>
        <translation>秒</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="207"/>
        <source>min</source>
        <translation>分</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="208"/>
        <source>h</source>
        <translation>小时</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="229"/>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="244"/>
        <source>Starts about %1</source>
        <translation>约 %1 开始</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="248"/>
        <source>Takes about %1</source>
        <translation>约需 %1</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="253"/>
        <source>Measured on the machine that runs it</source>
        <translation>按运行它的机器实测速度估算</translation>
    </message>
    <message>
        <location filename="../../gui/queue_model.py" line="255"/>
        <source>Scaled from the official timing table (no comparable job finished yet)</source>
        <translation>按官方耗时表换算（尚无可比的已完成任务）</translation>
    </message>
</context>
<context>
    <name>LoraPicker</name>
    <message>
        <location filename="../../gui/widgets/lora_picker.py" line="47"/>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/lora_picker.py" line="47"/>
        <location filename="../../gui/widgets/lora_picker.py" line="98"/>
        <source>High noise</source>
        <translation>高噪声</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/lora_picker.py" line="47"/>
        <source>Low noise</source>
        <translation>低噪声</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/lora_picker.py" line="57"/>
        <location filename="../../gui/widgets/lora_picker.py" line="177"/>
        <source>Add LoRA</source>
        <translation>添加 LoRA</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/lora_picker.py" line="61"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/lora_picker.py" line="98"/>
        <source>Strength</source>
        <translation>强度</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/lora_picker.py" line="172"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/lora_picker.py" line="177"/>
        <source>LoRA files (*.safetensors)</source>
        <translation>LoRA 文件 (*.safetensors)</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../gui/main_window.py" line="59"/>
        <source>Wan22 Desktop</source>
        <translation>Wan22 Desktop</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="114"/>
        <source>Rendering is not set up yet: the worker&apos;s torch environment is missing.</source>
        <translation>尚未设置渲染环境：缺少后台进程所需的 torch 环境。</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="116"/>
        <source>click Set up rendering (or run `./wan22 runtime setup` in the app&apos;s folder; it downloads torch, a few GB); the queue, history and downloads work meanwhile</source>
        <translation>点击“设置渲染环境”（或在应用文件夹中运行 `./wan22 runtime setup`；它会下载 torch，约数 GB）；在此期间队列、历史和下载照常可用</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="137"/>
        <source>Rendering is set up: jobs in the queue can run now.</source>
        <translation>渲染环境已设置好：队列中的任务现在可以运行了。</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="178"/>
        <source>The %1 view could not start: %2</source>
        <translation>“%1”页面无法启动：%2</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="181"/>
        <source>the details are in the log file</source>
        <translation>详细信息见日志文件</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="185"/>
        <source>The %1 view could not start.</source>
        <translation>“%1”视图无法启动。</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="257"/>
        <source>Queue: %1 running, %2 waiting</source>
        <translation>队列：%1 个运行中，%2 个等待</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="262"/>
        <source> (paused)</source>
        <translation>（已暂停）</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="278"/>
        <source>Runner: on</source>
        <translation>运行器：运行中</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="279"/>
        <source>Runner: another process</source>
        <translation>运行器：其他进程</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="280"/>
        <source>Runner: stopped</source>
        <translation>运行器：已停止</translation>
    </message>
</context>
<context>
    <name>ModelsTable</name>
    <message>
        <location filename="../../gui/models_table.py" line="48"/>
        <source>diffusers format, in place</source>
        <translation>diffusers 格式，原地使用</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="49"/>
        <source>ComfyUI files, in place</source>
        <translation>ComfyUI 文件，原地使用</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="76"/>
        <source>Installed (%1)</source>
        <translation>已安装（%1）</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="36"/>
        <source>Wan2.2 text-to-video, 14B MoE</source>
        <translation>Wan2.2 文生视频，14B MoE</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="37"/>
        <source>Wan2.2 image-to-video, 14B MoE</source>
        <translation>Wan2.2 图生视频，14B MoE</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="38"/>
        <source>Wan2.2 text/image-to-video, 5B</source>
        <translation>Wan2.2 文/图生视频，5B</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="39"/>
        <source>Prompt extension, text (7B)</source>
        <translation>提示词扩展，文本（7B）</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="40"/>
        <source>Prompt extension, text (14B)</source>
        <translation>提示词扩展，文本（14B）</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="41"/>
        <source>Prompt extension, image+text (3B)</source>
        <translation>提示词扩展，图像+文本（3B）</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="42"/>
        <source>Prompt extension, image+text (7B)</source>
        <translation>提示词扩展，图像+文本（7B）</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="57"/>
        <source>Waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="58"/>
        <source>Downloading</source>
        <translation>下载中</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="59"/>
        <source>Verifying</source>
        <translation>校验中</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="68"/>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="70"/>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="72"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="79"/>
        <source>Installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="80"/>
        <source>Not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="128"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="129"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="130"/>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="131"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="132"/>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../../gui/models_table.py" line="154"/>
        <source> (optional)</source>
        <translation>（可选）</translation>
    </message>
</context>
<context>
    <name>ModelsView</name>
    <message>
        <location filename="../../gui/views/models.py" line="415"/>
        <source>ComfyUI models used in place: %1</source>
        <translation>已就地使用 ComfyUI 模型：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="99"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="101"/>
        <source>First-run guide…</source>
        <translation>首次运行向导…</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="104"/>
        <source>What this computer can run, and one-click downloads of a first model</source>
        <translation>这台电脑能运行哪些模型，并一键下载第一个模型</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="137"/>
        <source>Mirror endpoint (optional), e.g. https://hf-mirror.com</source>
        <translation>镜像地址（可选），例如 https://hf-mirror.com</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="139"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="140"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="141"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="142"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="148"/>
        <source>Source:</source>
        <translation>下载源：</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="156"/>
        <source>Ready to generate</source>
        <translation>可用于生成</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="159"/>
        <source>Import folder…</source>
        <translation>导入文件夹…</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="161"/>
        <source>Use a model folder already on disk, in place (no copy)</source>
        <translation>直接使用磁盘上已有的模型文件夹（不复制）</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="164"/>
        <source>Look in caches</source>
        <translation>查找缓存</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="166"/>
        <source>Find models downloaded before with huggingface-cli or modelscope</source>
        <translation>查找以前用 huggingface-cli 或 modelscope 下载的模型</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="171"/>
        <source>Use this copy</source>
        <translation>使用这份副本</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="173"/>
        <source>Models on this computer</source>
        <translation>本机上的模型</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="241"/>
        <source>✓ %1 — ready (%2)</source>
        <translation>✓ %1 — 可用（%2）</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="244"/>
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="245"/>
        <source>✗ %1 — %2</source>
        <translation>✗ %1 — %2</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="251"/>
        <source>Models folder: %1 — %2 free, %3 used by installed models</source>
        <translation>模型文件夹：%1 — 剩余 %2，已安装模型占用 %3</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="316"/>
        <source>The mirror endpoint must be an http(s) URL</source>
        <translation>镜像地址必须是 http(s) 网址</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="317"/>
        <source>for example https://hf-mirror.com, or leave it empty</source>
        <translation>例如 https://hf-mirror.com，或留空</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="367"/>
        <source>Download finished</source>
        <translation>下载完成</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="383"/>
        <source>Model folder added: %1</source>
        <translation>已添加模型文件夹：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="393"/>
        <source>Choose a model folder</source>
        <translation>选择模型文件夹</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="426"/>
        <source>Hugging Face cache</source>
        <translation>Hugging Face 缓存</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="428"/>
        <source>ModelScope cache</source>
        <translation>ModelScope 缓存</translation>
    </message>
    <message>
        <location filename="../../gui/views/models.py" line="432"/>
        <source>No other copies found</source>
        <translation>没有找到其他副本</translation>
    </message>
</context>
<context>
    <name>Notifier</name>
    <message>
        <location filename="../../gui/notifier.py" line="39"/>
        <source>Unexpected error: %1</source>
        <translation>意外错误：%1</translation>
    </message>
    <message>
        <location filename="../../gui/notifier.py" line="42"/>
        <source>the details are in the log file</source>
        <translation>详细信息见日志文件</translation>
    </message>
</context>
<context>
    <name>Options</name>
    <message>
        <location filename="../../gui/views/settings.py" line="81"/>
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="82"/>
        <source>Standard</source>
        <translation>标准</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="83"/>
        <source>Official</source>
        <translation>官方</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="84"/>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="85"/>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="86"/>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="87"/>
        <source>Local Qwen</source>
        <translation>本地 Qwen</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="88"/>
        <source>DashScope (online)</source>
        <translation>DashScope（在线）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="89"/>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="90"/>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="91"/>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="92"/>
        <source>ModelScope</source>
        <translation>ModelScope（魔搭）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="93"/>
        <source>Fast colours (instant, low detail)</source>
        <translation>快速色彩（即时，细节较少）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="94"/>
        <source>Tiny VAE (near-true frames, small download)</source>
        <translation>微型 VAE（接近成片的画面，需少量下载）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="98"/>
        <source>Automatic (the planner decides per job)</source>
        <translation>自动（由规划器逐个任务决定）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="99"/>
        <source>One job per GPU (more jobs at once)</source>
        <translation>每个 GPU 一个任务（同时处理更多任务）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="100"/>
        <source>Every GPU on one job (each job sooner)</source>
        <translation>所有 GPU 处理同一任务（单个任务更快完成）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="104"/>
        <source>Task selected when the app starts</source>
        <translation>启动时选中的任务</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="105"/>
        <source>Quality preset for new jobs</source>
        <translation>新任务的质量预设</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="106"/>
        <source>Folder for finished videos (empty: the default)</source>
        <translation>成品视频文件夹（留空：默认位置）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="107"/>
        <source>Folder for downloaded models (empty: the default)</source>
        <translation>模型下载文件夹（留空：默认位置）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="108"/>
        <source>Where this machine sees folders that runners on other machines recorded (one FROM =&gt; TO per line)</source>
        <translation>其他机器上的渲染节点记录的文件夹在本机的位置（每行一条：来源 =&gt; 本机路径）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="113"/>
        <source>A ComfyUI install whose Wan2.2 files are used in place (empty: none)</source>
        <translation>就地使用其中 Wan2.2 文件的 ComfyUI 安装目录（留空：无）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="116"/>
        <source>Interface language</source>
        <translation>界面语言</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="117"/>
        <source>Colour theme</source>
        <translation>颜色主题</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="118"/>
        <source>Notify when a job finishes or fails</source>
        <translation>任务完成或失败时通知</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="119"/>
        <source>Keep the computer awake while jobs run</source>
        <translation>任务运行时阻止电脑休眠</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="120"/>
        <source>How queued jobs use several GPUs</source>
        <translation>队列任务如何使用多个 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="121"/>
        <source>Live preview of the running job</source>
        <translation>正在渲染任务的实时预览</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="122"/>
        <source>Extend prompts with an LLM by default</source>
        <translation>默认用大模型扩写提示词</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="123"/>
        <source>Prompt extension backend</source>
        <translation>提示词扩写方式</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="124"/>
        <source>Prompt extension model (empty: the default)</source>
        <translation>提示词扩写模型（留空：默认）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="125"/>
        <source>Language of extended prompts</source>
        <translation>扩写后提示词的语言</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="126"/>
        <source>Where models are downloaded from</source>
        <translation>模型下载来源</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="127"/>
        <source>Hugging Face mirror URL (empty: huggingface.co)</source>
        <translation>Hugging Face 镜像地址（留空：huggingface.co）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="128"/>
        <source>Try the other source when a download fails</source>
        <translation>下载失败时尝试另一个来源</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="129"/>
        <source>Times a job is retried after a crash before it is marked interrupted</source>
        <translation>任务崩溃后重试的次数，超过则标记为中断</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="132"/>
        <source>A job is treated as hung when a step takes this many times longer than expected</source>
        <translation>单步耗时超过预期的多少倍时视为卡死</translation>
    </message>
</context>
<context>
    <name>PlanPanel</name>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="41"/>
        <source>Plan on this machine</source>
        <translation>本机运行计划</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="51"/>
        <source>Checking this machine&apos;s GPUs…</source>
        <translation>正在检测本机 GPU…</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="56"/>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="59"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="60"/>
        <source>Checkpoint</source>
        <translation>模型文件</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="60"/>
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="62"/>
        <source>CPU (tiny test model)</source>
        <translation>CPU（微型测试模型）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="65"/>
        <source>%1 GPUs, Ulysses %2</source>
        <translation>%1 块 GPU，Ulysses %2</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="70"/>
        <source>1 GPU</source>
        <translation>1 块 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="71"/>
        <source>Runs on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="73"/>
        <source>Placement</source>
        <translation>显存与内存安排</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="78"/>
        <source>~%1 GiB VRAM per GPU (sampling %2, decoding %3), ~%4 GiB RAM</source>
        <translation>每块 GPU 约 %1 GiB 显存（采样 %2，解码 %3），内存约 %4 GiB</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="74"/>
        <source>Memory savers</source>
        <translation>省显存选项</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="19"/>
        <source>task</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="20"/>
        <source>size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="21"/>
        <source>device</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="22"/>
        <source>gpus</source>
        <translation>GPU 数</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="23"/>
        <source>offload_model</source>
        <translation>模型卸载</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="24"/>
        <source>convert_model_dtype</source>
        <translation>bf16 权重</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="25"/>
        <source>t5_cpu</source>
        <translation>T5 在 CPU 上</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="26"/>
        <source>stream_blocks</source>
        <translation>分块流式加载</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="27"/>
        <source>fp8</source>
        <translation>FP8 权重</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="28"/>
        <source>vae</source>
        <translation>VAE</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="29"/>
        <source>vae_offload</source>
        <translation>VAE 移出 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="30"/>
        <source>dit_fsdp</source>
        <translation>DiT FSDP</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="31"/>
        <source>vram</source>
        <translation>显存</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="32"/>
        <source>attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="33"/>
        <source>precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="34"/>
        <source>compile</source>
        <translation>编译</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="35"/>
        <source>cfg_batch</source>
        <translation>CFG 批处理</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="74"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="77"/>
        <source>Expected memory</source>
        <translation>预计内存</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="87"/>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="92"/>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="93"/>
        <source>%1 frames, %2 s at %3 fps</source>
        <translation>%1 帧，%2 秒（%3 fps）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="100"/>
        <source>s</source>
        <translation>秒</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="100"/>
        <source>min</source>
        <translation>分</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="100"/>
        <source>h</source>
        <translation>小时</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="101"/>
        <source>Estimated time</source>
        <translation>预计耗时</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plan_panel.py" line="121"/>
        <source>Time is an estimate scaled from the official timings, model loading not included.</source>
        <translation>耗时按官方测速数据推算，仅供参考，不含模型加载时间。</translation>
    </message>
</context>
<context>
    <name>PlanText</name>
    <message>
        <location filename="../../gui/plan_text.py" line="33"/>
        <source>set by you</source>
        <translation>由你设定</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="34"/>
        <source>on: {reason}</source>
        <translation>开：{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="35"/>
        <source>off: {reason}</source>
        <translation>关：{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="36"/>
        <source>CPU: no CUDA GPU, and this is a tiny test checkpoint</source>
        <translation>CPU：没有 CUDA GPU，且这是一个微型测试检查点</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="38"/>
        <source>{task} as requested</source>
        <translation>{task}（按你的请求）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="39"/>
        <source>auto: {task} does not fit ({reason}); TI2V-5B does</source>
        <translation>自动：{task} 放不下（{reason}）；TI2V-5B 可以</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="40"/>
        <source>auto: {task} fits this machine</source>
        <translation>自动：{task} 适合这台机器</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="41"/>
        <source>auto: {task} with block streaming/FP8; TI2V-5B does not fit either</source>
        <translation>自动：{task} 使用分块流式加载/FP8；TI2V-5B 也放不下</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="44"/>
        <source>fits only with block streaming or FP8 weights (slow)</source>
        <translation>只有用分块流式加载或 FP8 权重才放得下（较慢）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="45"/>
        <source>{size}: {task} needs sizes in multiples of {step} px, the nearest preset to {size2}</source>
        <translation>{size}：{task} 的尺寸须为 {step} 像素的倍数，这是最接近 {size2} 的预设</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="50"/>
        <source>1 GPU</source>
        <translation>1 个 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="51"/>
        <source>latency mode: all {n} GPUs do not fit ({reason}); {n2} used</source>
        <translation>延迟优先模式：全部 {n} 个 GPU 放不下（{reason}）；改用 {n2} 个</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="52"/>
        <source>{n} GPUs: split across GPUs with Ulysses sequence parallelism</source>
        <translation>{n} 个 GPU：用 Ulysses 序列并行分摊到各 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="53"/>
        <source>{n} of {total} GPUs: the sequence-parallel size must divide the {heads} attention heads</source>
        <translation>使用 {total} 个 GPU 中的 {n} 个：序列并行数必须整除 {heads} 个注意力头</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="57"/>
        <source>1 of {total} GPUs: split across {n} GPUs each one would need more memory than it has; one GPU runs it with the placement below</source>
        <translation>使用 {total} 个 GPU 中的 1 个：分摊到 {n} 个 GPU 时每个都需要超出其容量的显存；单个 GPU 按下面的放置方式运行</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="63"/>
        <source>{reason}, with the savers below</source>
        <translation>{reason}，并使用下面的省显存手段</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="64"/>
        <source>the official recipe for A14B on one GPU (offload + bf16): one expert at a time</source>
        <translation>A14B 单 GPU 官方方案（卸载 + bf16）：每次只放一个专家</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="67"/>
        <source>the official recipe for A14B on several GPUs (FSDP + Ulysses)</source>
        <translation>A14B 多 GPU 官方方案（FSDP + Ulysses）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="68"/>
        <source>both experts and T5 stay on the GPU in bf16: no copies between steps (fastest)</source>
        <translation>两个专家和 T5 都以 bf16 留在 GPU 上：步骤之间无需复制（最快）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="72"/>
        <source>both experts stay on the GPU in bf16 (no copy at the expert switch); T5 runs on the CPU to make room</source>
        <translation>两个专家都以 bf16 留在 GPU 上（切换专家时无需复制）；T5 在 CPU 上运行以腾出空间</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="77"/>
        <source>VRAM to spare: everything stays on the GPU in full precision (fastest)</source>
        <translation>显存充裕：全部以全精度留在 GPU 上（最快）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="80"/>
        <source>bf16 weights to fit the VRAM; no offloading needed</source>
        <translation>使用 bf16 权重以放进显存；无需卸载</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="81"/>
        <source>bf16 weights and T5 on the CPU to fit the VRAM; no offloading needed</source>
        <translation>使用 bf16 权重并把 T5 放在 CPU 上以放进显存；无需卸载</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="84"/>
        <source>offload, bf16 weights and T5 on the CPU (the official 24 GB recipe)</source>
        <translation>卸载、bf16 权重、T5 在 CPU 上（官方 24 GB 方案）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="87"/>
        <source>T5 ({gib} GiB) does not fit on the GPU even alone: it encodes on the CPU</source>
        <translation>T5（{gib} GiB）单独也放不进 GPU：在 CPU 上编码</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="90"/>
        <source>shards the experts across GPUs</source>
        <translation>把专家分片到各 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="91"/>
        <source>single GPU or small model</source>
        <translation>单 GPU 或小模型</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="93"/>
        <source>{n} DiT blocks stay on the GPU, the others stream in from pinned RAM while the previous one computes: the whole DiT does not fit beside the activations</source>
        <translation>{n} 个 DiT 块常驻 GPU，其余块在上一块计算时从锁页内存流式载入：整个 DiT 与激活值放不到一起</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="98"/>
        <source>the DiT fits on the GPU</source>
        <translation>DiT 放得进 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="99"/>
        <source>FP8 weights keep {n} blocks resident instead of {n2} in bf16 (less streaming; a small accuracy cost)</source>
        <translation>FP8 权重可常驻 {n} 个块，bf16 只能 {n2} 个（流式加载更少；精度略有损失）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="104"/>
        <source>bf16 weights fit well enough</source>
        <translation>bf16 权重已足够放下</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="105"/>
        <source>{dtype}, tiles of {tile} latent px: the untiled fp32 decode needs about {gib} GiB</source>
        <translation>{dtype}，{tile} 潜空间像素分块：不分块的 fp32 解码约需 {gib} GiB</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="109"/>
        <source>fp32, untiled: the decode fits</source>
        <translation>fp32，不分块：解码放得下</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="110"/>
        <source>{dtype}, tiles of {tile}: {reason}</source>
        <translation>{dtype}，{tile} 分块：{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="111"/>
        <source>{dtype}, untiled: {reason}</source>
        <translation>{dtype}，不分块：{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="112"/>
        <source>the VAE waits in RAM while the DiT samples, to make room</source>
        <translation>DiT 采样时 VAE 在内存中等待，以腾出空间</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="113"/>
        <source>the VAE stays on the GPU</source>
        <translation>VAE 留在 GPU 上</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="114"/>
        <source>about {gib} GiB while sampling and {gib2} GiB while decoding, of {total} GiB (several GPUs: arithmetic, not simulated per rank)</source>
        <translation>采样时约 {gib} GiB，解码时约 {gib2} GiB，共 {total} GiB（多 GPU：按公式估算，未逐个进程模拟）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="119"/>
        <source>about {gib} GiB while sampling and {gib2} GiB while decoding, of {total} GiB</source>
        <translation>采样时约 {gib} GiB，解码时约 {gib2} GiB，共 {total} GiB</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="122"/>
        <source>planned for {gib} of {total} GiB: {pct} % kept free</source>
        <translation>按 {total} GiB 中的 {gib} GiB 规划：预留 {pct}% 空闲</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="124"/>
        <source>no CUDA GPU: PyTorch SDPA</source>
        <translation>没有 CUDA GPU：PyTorch SDPA</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="125"/>
        <source>PyTorch SDPA: {reason}; {reason2}</source>
        <translation>PyTorch SDPA：{reason}；{reason2}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="126"/>
        <source>{kernel}: it imports, and the GPU ({card}) runs it</source>
        <translation>{kernel}：已安装，且此 GPU（{card}）支持</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="127"/>
        <source>{kernel} is not installed (importing {module} failed: {detail})</source>
        <translation>{kernel} 未安装（导入 {module} 失败：{detail}）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="130"/>
        <source>{kernel} is not installed</source>
        <translation>{kernel} 未安装</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="131"/>
        <source>{kernel} runs on Hopper (sm90) only; this GPU is {card}</source>
        <translation>{kernel} 仅支持 Hopper（sm90）；此 GPU 为 {card}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="132"/>
        <source>{kernel} needs compute capability {need} or newer; this GPU is {card}</source>
        <translation>{kernel} 需要计算能力 {need} 或更新；此 GPU 为 {card}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="135"/>
        <source>{kernel} needs a CUDA GPU</source>
        <translation>{kernel} 需要 CUDA GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="137"/>
        <source>fp32 on the CPU</source>
        <translation>CPU 上使用 fp32</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="138"/>
        <source>bf16: the official precision on GPUs</source>
        <translation>bf16：GPU 上的官方精度</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="139"/>
        <source>on the CPU compiling takes longer than it saves</source>
        <translation>在 CPU 上编译耗时多于节省的时间</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="140"/>
        <source>not used with several GPUs (Ulysses/FSDP)</source>
        <translation>多 GPU（Ulysses/FSDP）时不使用</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="141"/>
        <source>not combined with block streaming (its hooks run around each block)</source>
        <translation>不与分块流式加载同用（其钩子在每个块前后运行）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="144"/>
        <source>a long job ({steps} steps × {k}k tokens); compiling the blocks (about a minute the first time, cached after) saves ≈10–20 % per step</source>
        <translation>长任务（{steps} 步 × {k}k 词元）；编译各块（首次约一分钟，之后有缓存）每步可省约 10–20 %</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="149"/>
        <source>a short job ({steps} steps × {k}k tokens); compiling would take longer than it saves</source>
        <translation>短任务（{steps} 步 × {k}k 词元）；编译耗时会多于节省的时间</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="153"/>
        <source>on the CPU two forwards cost the same as one batch of two</source>
        <translation>在 CPU 上两次前向与一次两路批处理耗时相同</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="154"/>
        <source>not used with several GPUs (Ulysses)</source>
        <translation>多 GPU（Ulysses）时不使用</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="155"/>
        <source>no memory estimate</source>
        <translation>没有显存估算</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="156"/>
        <source>the GPU has room for both CFG passes at once (~{gib} of {total} GiB)</source>
        <translation>GPU 放得下同时进行的两路 CFG（约 {gib} / {total} GiB）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="159"/>
        <source>both CFG passes at once would need ~{gib} GiB of the GPU&apos;s {total}</source>
        <translation>同时进行两路 CFG 约需 {gib} GiB，GPU 只有 {total}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="163"/>
        <source>CFG batching (set by you) needs about {gib} GiB of the GPU&apos;s {total}: the job may run out of GPU memory; turn it off</source>
        <translation>CFG 批处理（由你设定）约需 {gib} GiB，GPU 只有 {total}：任务可能显存不足；请关闭它</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="168"/>
        <source>about {gib} GiB of RAM needed but only {free} GiB is free now: close other programs</source>
        <translation>约需 {gib} GiB 内存，但当前只有 {free} GiB 空闲：请关闭其他程序</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="172"/>
        <source>the {task} model is not installed yet: download or import it first</source>
        <translation>{task} 模型尚未安装：请先下载或导入</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="175"/>
        <source>ran out of GPU memory; retried with {pct} % of the GPU kept free</source>
        <translation>GPU 显存不足；已预留 {pct}% 的 GPU 显存空闲并重试</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="179"/>
        <source>{task} at {size}, {frames} frames needs about {gib} GiB per GPU (sampling {gib2}, decode {gib3}); the GPU has {total} GiB</source>
        <translation>{task} 在 {size}、{frames} 帧时每个 GPU 约需 {gib} GiB（采样 {gib2}，解码 {gib3}）；此 GPU 有 {total} GiB</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="184"/>
        <source>{task} at {size}, {frames} frames needs about {gib} GiB per GPU; the GPU has {total} GiB</source>
        <translation>{task} 在 {size}、{frames} 帧时每个 GPU 约需 {gib} GiB；此 GPU 有 {total} GiB</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="188"/>
        <source>{task} with these settings needs about {gib} GiB of system RAM; this machine has {total} GiB</source>
        <translation>{task} 在这些设置下约需 {gib} GiB 系统内存；本机有 {total} GiB</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="193"/>
        <source>add RAM or swap, use several GPUs, or choose TI2V-5B</source>
        <translation>请增加内存或交换空间、使用多个 GPU，或选择 TI2V-5B</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="194"/>
        <source>the smallest card that fits this job is {gb} GB; {reason}</source>
        <translation>能运行此任务的最小显卡为 {gb} GB；{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="195"/>
        <source>no single card fits this job; {reason}</source>
        <translation>没有单张显卡放得下此任务；{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="196"/>
        <source>choose a smaller size or fewer frames, or TI2V-5B</source>
        <translation>请选择更小的尺寸或更少的帧数，或选择 TI2V-5B</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="197"/>
        <source>choose a smaller size or fewer frames</source>
        <translation>请选择更小的尺寸或更少的帧数</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="198"/>
        <source>no model fits this machine: {reason}</source>
        <translation>没有模型适合这台机器：{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="199"/>
        <source>use a smaller size or fewer frames, or a machine with more GPU memory</source>
        <translation>请使用更小的尺寸或更少的帧数，或换一台显存更大的机器</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="202"/>
        <source>{task} needs an NVIDIA GPU: its checkpoint is far too large for the CPU</source>
        <translation>{task} 需要 NVIDIA GPU：其检查点对 CPU 来说太大了</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="205"/>
        <source>run on a machine with a CUDA GPU; the CPU runs only tiny test checkpoints</source>
        <translation>请在有 CUDA GPU 的机器上运行；CPU 只能运行微型测试检查点</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="209"/>
        <source>no CUDA GPU found: {task} needs an NVIDIA GPU ({detail})</source>
        <translation>未找到 CUDA GPU：{task} 需要 NVIDIA GPU（{detail}）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="210"/>
        <source>no CUDA GPU found: {task} needs an NVIDIA GPU</source>
        <translation>未找到 CUDA GPU：{task} 需要 NVIDIA GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="211"/>
        <source>install the NVIDIA driver and a CUDA build of PyTorch, or run on another machine</source>
        <translation>请安装 NVIDIA 驱动和 CUDA 版 PyTorch，或换一台机器运行</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="215"/>
        <source>{n} GPUs requested but {total} found</source>
        <translation>请求了 {n} 个 GPU，但只找到 {total} 个</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="216"/>
        <source>use at most {n} GPUs</source>
        <translation>最多使用 {n} 个 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="217"/>
        <source>Ulysses size {n} does not divide the model&apos;s {heads} heads</source>
        <translation>Ulysses 并行数 {n} 不能整除模型的 {heads} 个注意力头</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="218"/>
        <source>FSDP sharding needs several GPUs; this plan uses one</source>
        <translation>FSDP 分片需要多个 GPU；此方案只用一个</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="219"/>
        <source>turn FSDP off, or use more GPUs</source>
        <translation>请关闭 FSDP，或使用更多 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="220"/>
        <source>T5 cannot be sharded across GPUs and kept on the CPU at once</source>
        <translation>T5 不能同时分片到各 GPU 又留在 CPU 上</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="221"/>
        <source>choose one of &apos;T5 FSDP&apos; and &apos;T5 on CPU&apos;</source>
        <translation>请在“T5 FSDP”和“T5 在 CPU 上”中选一个</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="222"/>
        <source>unknown attention backend {name}</source>
        <translation>未知的注意力后端 {name}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="223"/>
        <source>attention backend {name} cannot run here: {reason}</source>
        <translation>注意力后端 {name} 无法在此运行：{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="224"/>
        <source>unknown task {name}</source>
        <translation>未知任务 {name}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="225"/>
        <source>unknown precision {name}</source>
        <translation>未知精度 {name}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="226"/>
        <source>use t2v-A14B, i2v-A14B, ti2v-5B or auto</source>
        <translation>请使用 t2v-A14B、i2v-A14B、ti2v-5B 或 auto</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="227"/>
        <source>use one of {names}</source>
        <translation>请使用以下之一：{names}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="229"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="230"/>
        <source>{n} GPUs, Ulysses {size}</source>
        <translation>{n} 个 GPU，Ulysses {size}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="231"/>
        <source>DiT sharded (FSDP)</source>
        <translation>DiT 分片（FSDP）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="232"/>
        <source>DiT streamed, {n} blocks resident</source>
        <translation>DiT 流式加载，{n} 个块常驻</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="233"/>
        <source>one DiT on the GPU at a time (offload)</source>
        <translation>每次一个 DiT 在 GPU 上（卸载）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="234"/>
        <source>whole DiT on the GPU</source>
        <translation>整个 DiT 在 GPU 上</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="235"/>
        <source>T5 on the CPU</source>
        <translation>T5 在 CPU 上</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="236"/>
        <source>T5 sharded across the GPUs</source>
        <translation>T5 分片到各 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="237"/>
        <source>T5 streamed through the GPU to encode</source>
        <translation>T5 编码时流式经过 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="238"/>
        <source>T5 on the GPU only to encode</source>
        <translation>T5 仅在编码时放到 GPU 上</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="239"/>
        <source>T5 on the GPU</source>
        <translation>T5 在 GPU 上</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="240"/>
        <source>offload</source>
        <translation>卸载</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="241"/>
        <source>bf16 weights</source>
        <translation>bf16 权重</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="242"/>
        <source>T5 on CPU</source>
        <translation>T5 在 CPU 上</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="243"/>
        <source>FSDP</source>
        <translation>FSDP</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="244"/>
        <source>streaming ({n} blocks resident)</source>
        <translation>流式加载（{n} 个块常驻）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="245"/>
        <source>FP8 weights</source>
        <translation>FP8 权重</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="246"/>
        <source>{dtype} VAE</source>
        <translation>{dtype} VAE</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="247"/>
        <source>tiled VAE ({tile})</source>
        <translation>分块 VAE（{tile}）</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="248"/>
        <source>VAE off the GPU while sampling</source>
        <translation>采样时 VAE 移出 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="250"/>
        <source>{value}: set by you</source>
        <translation>{value}：由你设定</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="251"/>
        <source>{task}: {reason}</source>
        <translation>{task}：{reason}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="252"/>
        <source>{reason}; {reason2}</source>
        <translation>{reason}；{reason2}</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="255"/>
        <source>, </source>
        <translation>，</translation>
    </message>
    <message>
        <location filename="../../gui/plan_text.py" line="256"/>
        <source>; </source>
        <translation>；</translation>
    </message>
</context>
<context>
    <name>PlayerView</name>
    <message>
        <location filename="../../gui/views/player.py" line="67"/>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="71"/>
        <source>Play / pause (Space)</source>
        <translation>播放 / 暂停（空格）</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="75"/>
        <source>Previous frame (Left)</source>
        <translation>上一帧（←）</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="79"/>
        <source>Next frame (Right)</source>
        <translation>下一帧（→）</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="87"/>
        <source>Loop</source>
        <translation>循环</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="98"/>
        <source>Full screen</source>
        <translation>全屏</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="99"/>
        <source>Full screen (F, Esc to leave)</source>
        <translation>全屏（F，按 Esc 退出）</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="101"/>
        <source>Export frame…</source>
        <translation>导出当前帧…</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="160"/>
        <source>Video not found: %1</source>
        <translation>找不到视频：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="161"/>
        <source>it was moved or deleted</source>
        <translation>文件可能已被移动或删除</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="176"/>
        <source>Open video</source>
        <translation>打开视频</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="176"/>
        <source>Videos (*.mp4 *.mov *.mkv *.webm)</source>
        <translation>视频 (*.mp4 *.mov *.mkv *.webm)</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="245"/>
        <source>There is no frame to export yet</source>
        <translation>还没有可导出的画面</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="246"/>
        <source>play the video or step to a frame first</source>
        <translation>请先播放视频或逐帧定位到某一帧</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="255"/>
        <source>Cannot write %1</source>
        <translation>无法写入 %1</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="256"/>
        <source>choose a folder you can write to</source>
        <translation>请选择一个可写入的文件夹</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="271"/>
        <source>Export frame</source>
        <translation>导出当前帧</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="273"/>
        <source>PNG image (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="282"/>
        <source>Frame saved: %1</source>
        <translation>已保存画面：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="326"/>
        <source>Cannot play this video: %1</source>
        <translation>无法播放此视频：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="327"/>
        <source>the file may be damaged or use an unsupported codec</source>
        <translation>文件可能已损坏，或使用了不支持的编码</translation>
    </message>
    <message>
        <location filename="../../gui/views/player.py" line="371"/>
        <source>Wan22 Player</source>
        <translation>Wan22 播放器</translation>
    </message>
</context>
<context>
    <name>QueueView</name>
    <message>
        <location filename="../../gui/views/queue.py" line="147"/>
        <location filename="../../gui/views/queue.py" line="332"/>
        <source>Pause queue</source>
        <translation>暂停队列</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="150"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="152"/>
        <source>Stop and re-roll</source>
        <translation>停止并重新生成</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="156"/>
        <source>Stop this job and queue it again first with a new seed; other jobs are untouched</source>
        <translation>停止此任务，并用新的种子将其重新排在队列最前；其他任务不受影响</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="159"/>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="161"/>
        <source>Retry with less GPU memory</source>
        <translation>减少显存占用后重试</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="166"/>
        <source>The job ran out of GPU memory: queue it again with more of the GPU kept free, so the planner picks a smaller plan</source>
        <translation>该任务显存不足：重新加入队列并预留更多 GPU 显存，让规划器选择占用更小的方案</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="170"/>
        <source>Edit…</source>
        <translation>编辑…</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="172"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="174"/>
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="176"/>
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="178"/>
        <source>Release GPU</source>
        <translation>释放 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="182"/>
        <source>Cancel requested</source>
        <translation>已请求取消</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="188"/>
        <source>Job queued again</source>
        <translation>任务已重新排队</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="192"/>
        <source>Job removed</source>
        <translation>任务已移除</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="227"/>
        <source>Now rendering</source>
        <translation>正在渲染</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="231"/>
        <source>Runners</source>
        <translation>渲染节点</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="235"/>
        <source>Machine</source>
        <translation>机器</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="235"/>
        <source>GPU</source>
        <translation>GPU</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="235"/>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="235"/>
        <source>Last seen (UTC)</source>
        <translation>最后在线 (UTC)</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="276"/>
        <source>Stop the worker after the current job to free GPU memory</source>
        <translation>当前任务结束后停止工作进程，释放显存</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="278"/>
        <source>Available when this window runs the queue</source>
        <translation>仅当本窗口运行队列时可用</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="332"/>
        <source>Resume queue</source>
        <translation>恢复队列</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="382"/>
        <source>Queue paused: no finish time until it is resumed.</source>
        <translation>队列已暂停：恢复前无法给出完成时间。</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="385"/>
        <source>Queue finish time unknown: no job has finished on this PC yet to measure its speed.</source>
        <translation>队列完成时间未知：这台电脑还没有完成过任务，无法测出它的速度。</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="388"/>
        <source>Queue done about %1 · %2</source>
        <translation>队列约 %1 完成 · 还需 %2</translation>
    </message>
    <message numerus="yes">
        <location filename="../../gui/views/queue.py" line="394"/>
        <source>from %n finished job(s), partly the official timing table</source>
        <translation>
            <numerusform>根据 %n 个已完成任务，部分按官方耗时表</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../gui/views/queue.py" line="397"/>
        <source>from %n finished job(s)</source>
        <translation>
            <numerusform>根据 %n 个已完成任务</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="399"/>
        <source>estimate from the official timing table</source>
        <translation>按官方耗时表估算</translation>
    </message>
    <message numerus="yes">
        <location filename="../../gui/views/queue.py" line="401"/>
        <source>, shared by %n runner(s)</source>
        <translation>
            <numerusform>，由 %n 个运行器分担</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="408"/>
        <source>This window runs the queue.</source>
        <translation>本窗口正在运行队列。</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="413"/>
        <source>The queue is run by another process (pid %1 on %2); this window only shows it.</source>
        <translation>队列由另一个进程运行（%2 上的 pid %1），本窗口只显示状态。</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="419"/>
        <source>No runner is working on this queue.</source>
        <translation>当前没有运行器处理这个队列。</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="429"/>
        <source>job %1</source>
        <translation>任务 %1</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="429"/>
        <source>idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="435"/>
        <source>not responding</source>
        <translation>无响应</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="438"/>
        <source>no GPU</source>
        <translation>无 GPU</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="445"/>
        <source>version %1; models: %2</source>
        <translation>版本 %1；模型：%2</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="460"/>
        <source>Nothing is rendering</source>
        <translation>没有正在渲染的任务</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="471"/>
        <source>step %1 of %2</source>
        <translation>第 %1/%2 步</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="484"/>
        <source>Preview appears after the first steps</source>
        <translation>前几步之后会显示预览</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="568"/>
        <source>Job %1 queued again with %2 % of the GPU kept free</source>
        <translation>任务 %1 已重新加入队列，预留 %2% 的 GPU 显存空闲</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="587"/>
        <source>Job %1 stopped; re-rolled as job %2 with a new seed</source>
        <translation>任务 %1 已停止；已用新种子重新生成为任务 %2</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="632"/>
        <source>Queue paused: the running job finishes, no new one starts</source>
        <translation>队列已暂停：当前任务会完成，不再开始新任务</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="634"/>
        <source>Queue resumed</source>
        <translation>队列已恢复</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="645"/>
        <source>job %1&apos;s stored request cannot be read</source>
        <translation>无法读取任务 %1 保存的请求</translation>
    </message>
    <message>
        <location filename="../../gui/views/queue.py" line="646"/>
        <source>remove the job and queue it again</source>
        <translation>请移除该任务后重新加入队列</translation>
    </message>
</context>
<context>
    <name>RunnerController</name>
    <message>
        <location filename="../../gui/runner_controller.py" line="112"/>
        <source>In the one-job-per-GPU mode each GPU&apos;s runner keeps its model loaded; choose another GPU mode in Settings to free the GPUs.</source>
        <translation>在“每个 GPU 一个任务”模式下，每个 GPU 的运行器会保持模型已加载；要释放 GPU，请在设置中选择其他 GPU 模式。</translation>
    </message>
    <message>
        <location filename="../../gui/runner_controller.py" line="118"/>
        <source>The GPU will be released when the current job ends.</source>
        <translation>当前任务结束后将释放 GPU。</translation>
    </message>
    <message>
        <location filename="../../gui/runner_controller.py" line="235"/>
        <source>The queue runner stopped: %1</source>
        <translation>队列运行器已停止：%1</translation>
    </message>
    <message>
        <location filename="../../gui/runner_controller.py" line="236"/>
        <source>the details are in the log file</source>
        <translation>详情见日志文件</translation>
    </message>
</context>
<context>
    <name>RuntimeSetupDialog</name>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="64"/>
        <source>Set up rendering</source>
        <translation>设置渲染环境</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="72"/>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="88"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="89"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="98"/>
        <source>Downloading PyTorch and setting up the environment the app renders with (a few GB on the first run).</source>
        <translation>正在下载 PyTorch 并设置应用用于渲染的环境（首次运行约需数 GB）。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="133"/>
        <source>The setup command could not start: %1</source>
        <translation>设置命令无法启动：%1</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="154"/>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="181"/>
        <source>Step %1 of %2: %3</source>
        <translation>第 %1 步，共 %2 步：%3</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="196"/>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="198"/>
        <source>Setup was cancelled; no half-made environment was left behind.</source>
        <translation>设置已取消；没有留下未完成的环境。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="205"/>
        <source>Done.</source>
        <translation>完成。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="206"/>
        <source>Rendering is set up: jobs in the queue can run now.</source>
        <translation>渲染环境已设置好：队列中的任务现在可以运行了。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="208"/>
        <source>the setup command failed (exit code %1)</source>
        <translation>设置命令失败（退出码 %1）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="216"/>
        <source>Setup failed.</source>
        <translation>设置失败。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="217"/>
        <source>Setup failed: %1</source>
        <translation>设置失败：%1</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/runtime_setup.py" line="221"/>
        <source>The log above has the details.</source>
        <translation>详细信息见上方日志。</translation>
    </message>
</context>
<context>
    <name>SettingsView</name>
    <message>
        <location filename="../../gui/views/settings.py" line="50"/>
        <source>Folders</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="53"/>
        <source>New jobs</source>
        <translation>新任务</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="54"/>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="56"/>
        <source>While rendering</source>
        <translation>渲染时</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="67"/>
        <source>Prompt extension</source>
        <translation>提示词扩写</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="76"/>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="233"/>
        <source>Takes effect when the app starts again</source>
        <translation>重新启动应用后生效</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="239"/>
        <source>Changes apply when no job is running: the queue runner restarts in the new mode.</source>
        <translation>更改会在没有任务运行时生效：队列运行器将以新模式重新启动。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="246"/>
        <source>* takes effect when the app starts again</source>
        <translation>* 重新启动应用后生效</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="259"/>
        <source>changes will not be saved</source>
        <translation>修改不会被保存</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="333"/>
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="350"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="351"/>
        <source>Default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="391"/>
        <source>Saved. This takes effect when the app starts again.</source>
        <translation>已保存，重新启动应用后生效。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="403"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="405"/>
        <source>Download the tiny VAE files (Models view)</source>
        <translation>下载微型 VAE 文件（模型视图）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="436"/>
        <source>Tiny VAE files installed.</source>
        <translation>微型 VAE 文件已安装。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="439"/>
        <source>Downloading %1 in the Models view…</source>
        <translation>正在模型视图中下载 %1…</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="444"/>
        <source>Not downloaded yet: %1 (about 23 MB each). Until then previews use the fast colours.</source>
        <translation>尚未下载：%1（每个约 23 MB）。在此之前，预览使用快速色彩。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="466"/>
        <source>Queue database</source>
        <translation>队列数据库</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="476"/>
        <source>password (stored in the OS keyring)</source>
        <translation>密码（保存在系统密钥环中）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="477"/>
        <source>Use shared database</source>
        <translation>使用共享数据库</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="479"/>
        <source>Use this folder&apos;s own database</source>
        <translation>使用本数据文件夹自己的数据库</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="503"/>
        <source>A shared queue: %1</source>
        <translation>共享队列：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="505"/>
        <source>This data folder&apos;s own database: %1</source>
        <translation>本数据文件夹自己的数据库：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="513"/>
        <source>Restart the app to switch.</source>
        <translation>重启应用后生效。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="525"/>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="533"/>
        <source>The queue is now the shared database.</source>
        <translation>队列已改为共享数据库。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="539"/>
        <source>The queue is now this data folder&apos;s own database.</source>
        <translation>队列已改为本数据文件夹自己的数据库。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="542"/>
        <source>DashScope API key (for online prompt extension)</source>
        <translation>DashScope API 密钥（用于在线扩写提示词）</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="550"/>
        <source>paste a key (sk-…) to store it in the OS keyring</source>
        <translation>粘贴密钥（sk-…），将保存到系统钥匙串</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="552"/>
        <source>Save key</source>
        <translation>保存密钥</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="554"/>
        <source>Remove key</source>
        <translation>删除密钥</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="556"/>
        <source>Test</source>
        <translation>测试</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="580"/>
        <source>In use: %1 from the DASH_API_KEY environment variable</source>
        <translation>正在使用：来自 DASH_API_KEY 环境变量的 %1</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="584"/>
        <source>Stored in the OS keyring: %1</source>
        <translation>已保存在系统钥匙串中：%1</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="586"/>
        <source>No key stored</source>
        <translation>未保存密钥</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="601"/>
        <source>Key saved in the OS keyring.</source>
        <translation>密钥已保存到系统钥匙串。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="610"/>
        <source>Key removed.</source>
        <translation>密钥已删除。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="610"/>
        <source>No key was stored.</source>
        <translation>没有已保存的密钥。</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="619"/>
        <source>Testing…</source>
        <translation>正在测试…</translation>
    </message>
    <message>
        <location filename="../../gui/views/settings.py" line="625"/>
        <source>The key works.</source>
        <translation>密钥可用。</translation>
    </message>
</context>
<context>
    <name>StatusArea</name>
    <message>
        <location filename="../../gui/widgets/status_area.py" line="26"/>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_area.py" line="29"/>
        <source>Set up rendering…</source>
        <translation>设置渲染环境…</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_area.py" line="32"/>
        <source>Runs `wan22 runtime setup`: downloads PyTorch (a few GB), with progress</source>
        <translation>运行 `wan22 runtime setup`：下载 PyTorch（约数 GB），并显示进度</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_area.py" line="82"/>
        <source>Database unreachable</source>
        <translation>数据库无法连接</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_area.py" line="86"/>
        <source>The queue and history reload on their own when it is back.</source>
        <translation>数据库恢复后，队列和历史会自动重新加载。</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../../gui/tray.py" line="41"/>
        <source>Show Wan22 Desktop</source>
        <translation>显示 Wan22 Desktop</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="42"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="50"/>
        <source>Wan22 Desktop</source>
        <translation>Wan22 Desktop</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="61"/>
        <source>Wan22 Desktop — %1 running, %2 waiting</source>
        <translation>Wan22 Desktop — %1 个运行中，%2 个等待</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="65"/>
        <source> (paused)</source>
        <translation>（已暂停）</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="71"/>
        <source>Queue finished</source>
        <translation>队列已完成</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="79"/>
        <source>All jobs are done.</source>
        <translation>所有任务都已完成。</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="80"/>
        <source>%1 done, %2 failed</source>
        <translation>%1 个完成，%2 个失败</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="82"/>
        <source>, %1 cancelled</source>
        <translation>，%1 个已取消</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="88"/>
        <source>Video ready</source>
        <translation>视频已生成</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="88"/>
        <source>Job %1 finished.</source>
        <translation>任务 %1 已完成。</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="92"/>
        <source>Job failed</source>
        <translation>任务失败</translation>
    </message>
    <message>
        <location filename="../../gui/tray.py" line="93"/>
        <source>Job %1: %2</source>
        <translation>任务 %1：%2</translation>
    </message>
</context>
<context>
    <name>Views</name>
    <message>
        <location filename="../../gui/view_registry.py" line="35"/>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <location filename="../../gui/view_registry.py" line="39"/>
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../../gui/view_registry.py" line="43"/>
        <source>History</source>
        <translation>历史</translation>
    </message>
    <message>
        <location filename="../../gui/view_registry.py" line="47"/>
        <source>Player</source>
        <translation>播放器</translation>
    </message>
    <message>
        <location filename="../../gui/view_registry.py" line="50"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../gui/view_registry.py" line="54"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
</context>
</TS>
